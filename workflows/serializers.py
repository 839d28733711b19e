"""Shapes of the cases API (API.md): parse requests, render cases. No business rules here."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from accounts.models import Role
from core.baked import BakedQuery
from workflows.actions.engine import created_timeline, held_materials, take_spawned_children
from workflows.models import Case, CaseEvent, CaseState, DeliveryMethod, Material, MaterialView, Mode
from workflows.results import Result, held_results
from workflows.rules import Actor, available_transitions

# The states a case is in once its result was issued (every path after workflows.actions.issue).
ISSUED_STATES = frozenset(
    {CaseState.ISSUED, CaseState.PRINT_QUEUED, CaseState.READY_FOR_PICKUP, CaseState.MAILED, CaseState.DELIVERED}
)

# --- requests -------------------------------------------------------------------------------


class DeliveryInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    hall = serializers.CharField(required=False, allow_blank=True, max_length=32)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)


class ApplicantInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    id_number = serializers.CharField(max_length=32)
    phone = serializers.CharField(max_length=20)


class CaseCreateSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=64)
    mode = serializers.ChoiceField(choices=Mode.choices)
    jurisdiction = serializers.CharField(max_length=6)
    delivery = DeliveryInSerializer()
    receiving_hall = serializers.CharField(required=False, max_length=32)
    applicant = ApplicantInSerializer(required=False)
    # The facts the result certifies (workflows.facts: GET /workbench/items/<code>/facts/ lists them).
    form = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=500), required=False)


class CorrectionItemSerializer(serializers.Serializer):
    requirement = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)
    reason = serializers.CharField(max_length=500)


class TransitionBodySerializer(serializers.Serializer):
    """Every field any transition takes; each transition reads the ones it needs (API.md)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """For a JSON body, only the fields it gives: DRF would copy all thirteen (and construct each
        copy, validators and children included) on every call, ~0.25 ms, while a call gives 0–3.

        The same validated data and errors: every field here is optional without a default, so an
        absent one is skipped anyway. Form and multipart bodies (HTML input: an absent BooleanField
        means False there) and the schema (no data) get every field, as before."""
        data = getattr(self, "initial_data", None)
        declared = self._declared_fields  # type: ignore[attr-defined]
        if not isinstance(data, Mapping) or html.is_html_input(data) or self.partial:
            return super().get_fields()
        return {
            name: copy.deepcopy(field)
            for name, field in declared.items()
            if name in data or field.required or field.default is not empty
        }

    id_checked = serializers.BooleanField(required=False)
    originals_sighted = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    items = CorrectionItemSerializer(many=True, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    legal_basis = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=64)
    collector_id_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
    # hand_over by someone else than the applicant (代领): who, and the authorisation checked
    by_proxy = serializers.BooleanField(required=False)
    collector_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    authorisation = serializers.CharField(required=False, allow_blank=True, max_length=200)
    authorisation_checked = serializers.BooleanField(required=False)
    # print: the pre-printed blank sheet used per result number
    blank_serials = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=64), required=False)
    # resubmit: a note per item of the open correction notice, keyed by the item's number ("1", "2", ...)
    notes = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=500), required=False)


class MaterialInSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=64)
    file = serializers.FileField(required=False, allow_empty_file=False, use_url=False)
    e_license = serializers.CharField(required=False, max_length=64)
    shared_material = serializers.IntegerField(required=False)
    # 告知承诺: the applicant's pledge text instead of the material (where the requirement allows it).
    pledge = serializers.CharField(required=False, max_length=2000)
    # Reusing an e-licence or a shared material needs the applicant's consent. No default: staff
    # reuse only under the applicant's live grant (licences.consent); the applicant's own request
    # is their consent, and an explicit false refuses it.
    consent = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("file", "e_license", "shared_material", "pledge") if attrs.get(k) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError(
                {
                    "file": [
                        _(
                            "请提交文件，或指定一个电子证照（e_license）、共享材料（shared_material）或告知承诺（pledge）。"
                        )
                    ]
                }
            )
        return attrs


# --- responses ------------------------------------------------------------------------------
#
# Every response serializer below writes its ``to_representation`` out by hand. DRF's generic path
# (ModelSerializer) introspects the model and builds a field object per column on EVERY
# instantiation, then walks them per row: on a case detail that was ~10 ms of a ~20 ms request. The
# declared fields stay: they are the OpenAPI schema (drf-spectacular reads them), and
# tests/workflows/test_representation.py checks that each hand-written rendering equals DRF's
# generic one (``serializers.ModelSerializer.to_representation``) for cases in every state, so a
# field added to ``Meta.fields`` but not to the rendering fails a test.

# One shared DateTimeField renders every timestamp: DRF's ISO 8601 in the active time zone ("Z" for
# UTC), read from settings at call time, so sharing the instance changes nothing.
_DATETIME = serializers.DateTimeField()


# The columns the renderings below read (``only``): a material's and an event's own rows are narrow,
# but their joined rows are not (an event's actor is a whole user row, password hash included).
MATERIAL_COLUMNS = (
    "case",
    "requirement__code",
    "requirement__name",
    "sha256",
    "size",
    "source",
    "grade",
    "content_type",
    "file",
    "uploaded_at",
    "original_sighted_at",
    "original_sighted_hall__code",
)
EVENT_COLUMNS = (
    "case",
    "seq",
    "transition",
    "from_state",
    "to_state",
    "actor_label",
    "at",
    "payload",
    "actor__role",
    "actor__username",
    "actor__real_name",
)


# The three lists every case response shows, compiled once per process (core.baked): a case's
# live materials (a sub-case shows its parent's), its timeline, its results.
materials_of = BakedQuery(
    lambda case_id: (
        Material.objects.filter(case_id=case_id, superseded_at__isnull=True)
        .select_related("requirement", "original_sighted_hall")
        .only(*MATERIAL_COLUMNS)
    )
)
events_of = BakedQuery(
    lambda case_id: (
        CaseEvent.objects.filter(case_id=case_id).select_related("actor").only(*EVENT_COLUMNS).order_by("seq")
    )
)
results_of = BakedQuery(
    lambda case_id: (
        Result.objects.filter(case_id=case_id)
        .select_related("issuing_department")
        .only("case", "number", "issuing_department__code")
        .order_by("number")
    )
)


def _dt(value: Any) -> str | None:
    return _DATETIME.to_representation(value) if value else None


def _text(value: Any) -> str | None:
    """A CharField/ChoiceField value as DRF renders it (a TextChoices member becomes its value)."""
    return None if value is None else str(value)


@functools.lru_cache(maxsize=8192)
def _reversed(name: str, number: str, pk: int, _prefix: str, _urlconf: Any, _root: str, _language: str | None) -> str:
    return reverse(name, args=[number, pk])


def _material_path(name: str, number: str, pk: int) -> str:
    """``reverse(name, args=[number, pk])``, remembered: a material's two URLs are in every response
    about its case (~20 µs of CPU each to reverse, four or more per case detail). Keyed by everything
    reverse() reads besides the URL patterns, which do not change while a process runs (the script
    prefix, a request's urlconf, ROOT_URLCONF, the language)."""
    return _reversed(name, number, pk, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF, get_language())


class MaterialOutSerializer(serializers.ModelSerializer):
    requirement = serializers.CharField(source="requirement.code")
    requirement_name = serializers.CharField(source="requirement.name")
    original_sighted = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="the original file (those whose duty covers the case)")
    preview_url = serializers.SerializerMethodField(help_text="a watermarked PNG of page 1 (?page=N)")

    class Meta:
        model = Material
        fields = [
            "id",
            "requirement",
            "requirement_name",
            "sha256",
            "size",
            "source",
            "grade",
            "content_type",
            "uploaded_at",
            "original_sighted",
            "url",
            "preview_url",
        ]

    def _path(self, m: Material, name: str) -> str | None:
        if not m.file:
            return None  # an e-licence or a pledge: no file of ours to serve
        case = self.context.get("case")
        number = case.number if case is not None else m.case.number
        path = _material_path(name, number, m.pk)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, m: Material) -> str | None:
        return self._path(m, "workflows:api-material-file")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_preview_url(self, m: Material) -> str | None:
        return self._path(m, "workflows:api-material-preview")

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_original_sighted(self, m: Material) -> dict[str, Any] | None:
        if m.original_sighted_at is None:
            return None
        return {
            "at": _dt(m.original_sighted_at),
            "hall": m.original_sighted_hall.code if m.original_sighted_hall else None,
        }

    def to_representation(self, m: Material) -> dict[str, Any]:
        return {
            "id": m.pk,
            "requirement": m.requirement.code,
            "requirement_name": m.requirement.name,
            "sha256": m.sha256,
            "size": m.size,
            "source": _text(m.source),
            "grade": _text(m.grade),
            "content_type": m.content_type,
            "uploaded_at": _dt(m.uploaded_at),
            "original_sighted": self.get_original_sighted(m),
            "url": self.get_url(m),
            "preview_url": self.get_preview_url(m),
        }


class MaterialViewSerializer(serializers.ModelSerializer):
    material = serializers.IntegerField(source="material_id")
    requirement = serializers.CharField(source="material.requirement.code")
    viewer = serializers.SerializerMethodField()

    class Meta:
        model = MaterialView
        fields = ["id", "material", "requirement", "viewer", "viewer_label", "viewer_role", "kind", "outcome", "at"]

    def get_viewer(self, v: MaterialView) -> int | None:
        return v.viewer_id


class EventOutSerializer(serializers.ModelSerializer):
    from_ = serializers.CharField(source="from_state")
    to = serializers.CharField(source="to_state")
    actor = serializers.SerializerMethodField()
    actor_name = serializers.CharField(source="actor_label")

    class Meta:
        model = CaseEvent
        fields = ["seq", "transition", "from_", "to", "actor", "actor_name", "at", "payload"]

    def get_actor(self, e: CaseEvent) -> str:
        if e.actor is None:
            return "system"
        # A citizen's username embeds their phone number (citizen-<phone>): staff reading the
        # timeline get the role, never the account name.
        if e.actor.role == Role.CITIZEN:
            return "applicant"
        return e.actor.get_username()

    def to_representation(self, instance: CaseEvent) -> dict[str, Any]:
        data = {
            "seq": instance.seq,
            "transition": instance.transition,
            "from": instance.from_state,
            "to": instance.to_state,
            "actor": self.get_actor(instance),
            "actor_name": instance.actor_label,
            "at": _dt(instance.at),
            "payload": instance.payload,
        }
        return self._citizen_label(instance, data)

    def _citizen_label(self, instance: CaseEvent, data: dict[str, Any]) -> dict[str, Any]:
        if instance.actor is not None and instance.actor.role == Role.CITIZEN:
            # Older events stored the username as the label when the citizen had no real name.
            data["actor_name"] = instance.actor.real_name or str(_("申请人"))
        return data


# What CaseListSerializer reads of a case and its to-one rows: a list page loads only these (the
# full rows of a case, its item, region and two halls were most of a list call's CPU: 20 rows of
# six models each, every column converted). Reading anything else would cost a query per row: the
# query budgets (tests/workflows/test_query_budgets.py) pin the lists' counts.
LIST_COLUMNS = (
    "number",
    "mode",
    "state",
    "jurisdiction",
    "cross_region",
    "sla_status",
    "created_at",
    "item__code",
    "item__name",
    "authority__code",
    "receiving_hall__code",
)


class CaseListSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    item_name = serializers.CharField(source="item.name")
    jurisdiction = serializers.CharField(source="jurisdiction_id")
    authority = serializers.SerializerMethodField()
    receiving_hall = serializers.SerializerMethodField()
    sla_status = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number",
            "item",
            "item_name",
            "mode",
            "state",
            "jurisdiction",
            "authority",
            "receiving_hall",
            "cross_region",
            "sla_status",
            "created_at",
        ]

    def get_authority(self, c: Case) -> str | None:
        return c.authority.code if c.authority else None

    def get_receiving_hall(self, c: Case) -> str | None:
        return c.receiving_hall.code if c.receiving_hall else None

    def get_sla_status(self, c: Case) -> str | None:
        return c.sla_status or None

    def to_representation(self, c: Case) -> dict[str, Any]:
        return {
            "number": c.number,
            "item": c.item.code,
            "item_name": c.item.name,
            "mode": _text(c.mode),
            "state": _text(c.state),
            "jurisdiction": _text(c.jurisdiction_id),
            "authority": self.get_authority(c),
            "receiving_hall": self.get_receiving_hall(c),
            "cross_region": c.cross_region,
            "sla_status": self.get_sla_status(c),
            "created_at": _dt(c.created_at),
        }


class CaseDetailSerializer(CaseListSerializer):
    delivery = serializers.SerializerMethodField()
    applicant = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]  # popped by the metaclass
    children = serializers.SerializerMethodField()
    corrections = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "delivery",
            "applicant",
            "sla",
            "materials",
            "result",
            "results",
            "events",
            "available_transitions",
            "parent",
            "children",
            "corrections",
            "tracking_number",
            "decision_reason",
            "legal_basis",
        ]

    @extend_schema_field(serializers.DictField())
    def get_delivery(self, c: Case) -> dict[str, Any]:
        return {
            "method": c.delivery_method,
            "hall": c.delivery_hall.code if c.delivery_hall else None,
            "address": c.delivery_address or None,
        }

    @extend_schema_field(serializers.DictField())
    def get_applicant(self, c: Case) -> dict[str, Any]:
        return {
            "name": c.applicant_name,
            "id_number_masked": c.applicant_id_masked,
            "phone_masked": c.applicant_phone_masked,
            "needs_review": c.applicant_id_needs_review,
        }

    @extend_schema_field(serializers.DictField())
    def get_sla(self, c: Case) -> dict[str, Any]:
        return {"accept_by": _dt(c.accept_by), "decide_by": _dt(c.decide_by), "status": c.sla_status or None}

    def to_representation(self, c: Case) -> dict[str, Any]:
        data = super().to_representation(c)
        data.update(
            delivery=self.get_delivery(c),
            applicant=self.get_applicant(c),
            sla=self.get_sla(c),
            materials=self.get_materials(c),
            result=self.get_result(c),
            results=self.get_results(c),
            events=self.get_events(c),
            available_transitions=self.get_available_transitions(c),
            parent=self.get_parent(c),
            children=self.get_children(c),
            corrections=self.get_corrections(c),
            tracking_number=c.tracking_number,
            decision_reason=c.decision_reason,
            legal_basis=c.legal_basis,
        )
        return data

    @extend_schema_field(MaterialOutSerializer(many=True))
    def get_materials(self, c: Case) -> list[dict[str, Any]]:
        if self.context.get("created"):
            return []  # created by this request: no material yet (workflows.api._detail)
        source = c.parent if c.parent_id else c  # a sub-case's file is its parent's
        assert source is not None
        child = MaterialOutSerializer(context={**self.context, "case": c})
        # The transition of this request may hold them already (engine.hold_materials).
        held = held_materials(c) if source is c else None
        return [child.to_representation(m) for m in (held if held is not None else materials_of(source.pk))]

    def _result_dict(self, r: Any) -> dict[str, Any]:
        request = self.context.get("request")
        url = request.build_absolute_uri(r.verify_path) if request is not None else r.verify_path
        return {"id": str(r.pk), "verify_url": url, "number": r.number, "issuing_department": r.issuing_department.code}

    def _results(self, c: Case) -> list[dict[str, Any]]:
        # "result" and "results" show the same rows: read them once per case.
        cache: dict[int, list[dict[str, Any]]] = self.__dict__.setdefault("_results_by_case", {})
        if c.pk not in cache:
            # Result rows are written by workflows.actions.issue only (approved → issued): a case
            # that never got there has none, and is not asked.
            rows: Any = []
            if c.state in ISSUED_STATES:
                held = held_results(c)  # the action of this request wrote or read them already
                rows = held if held is not None else results_of(c.pk)
            cache[c.pk] = [self._result_dict(r) for r in rows]
        return cache[c.pk]

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_result(self, c: Case) -> dict[str, Any] | None:
        results = self._results(c)
        return results[0] if results else None

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_results(self, c: Case) -> list[dict[str, Any]]:
        return self._results(c)

    @extend_schema_field(EventOutSerializer(many=True))
    def get_events(self, c: Case) -> list[dict[str, Any]]:
        child = EventOutSerializer()
        # A case this request created shows the one event its creation wrote (workflows.api._detail).
        written = created_timeline(c) if self.context.get("created") else None
        return [child.to_representation(e) for e in (written if written is not None else events_of(c.pk))]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, c: Case) -> list[str]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return []
        return available_transitions(Actor(user), c)

    def get_parent(self, c: Case) -> str | None:
        return c.parent.number if c.parent_id and c.parent else None

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_children(self, c: Case) -> list[dict[str, Any]]:
        if not c.is_joint_parent or c.submitted_at is None:
            # Only a joint parent has sub-cases, spawned when it is first transferred or submitted,
            # in the transaction that sets its submitted_at (workflows.actions.joint, never unset):
            # a parent that never got there (just created, at the window, a draft) has none.
            return []
        spawned = take_spawned_children(c)  # spawned by this request's step (engine.hold_spawned_children)
        children = (
            sorted(spawned, key=lambda ch: ch.number)
            if spawned is not None
            else c.children.select_related("authority").order_by("number")
        )
        return [
            {"number": ch.number, "authority": ch.authority.code if ch.authority else None, "state": ch.state}
            for ch in children
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_corrections(self, c: Case) -> list[dict[str, Any]]:
        if not c.correction_count:
            return []  # every notice counts itself on the case (workflows.actions.request_correction)
        return [
            {"items": n.items, "issued_at": _dt(n.issued_at), "resolved_at": _dt(n.resolved_at)}
            for n in c.corrections.order_by("issued_at")
        ]
