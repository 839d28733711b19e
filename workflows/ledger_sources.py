"""The verifier's resolvers for the workflow's facts (``verify_ledger --sources``): case events,
materials' digests and material views. Each rebuilds the ledger payload from its row with the
builder that made it, so an edited or deleted row shows up as a mismatch."""

from __future__ import annotations

from typing import Any

from ledger import extensions as ledger
from workflows.ledger_records import case_event_payload_of, material_payload_of
from workflows.models import CaseEvent, Material, MaterialView

Payloads = dict[str, dict[str, Any] | None]


def _int_ids(refs: list[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for ref in refs:
        key = ref.split(":", 1)[1]
        if key.isdigit():
            out[int(key)] = ref
    return out


def case_events(refs: list[str]) -> Payloads:
    wanted = _int_ids(refs)
    found: Payloads = dict.fromkeys(refs)
    for event in (
        CaseEvent.objects.filter(pk__in=wanted)
        .select_related("case")
        .only(
            "pk",
            "seq",
            "transition",
            "from_state",
            "to_state",
            "actor_id",
            "actor_label",
            "at",
            "payload",
            "case__number",
        )
    ):
        found[wanted[event.pk]] = case_event_payload_of(event)
    return found


def materials(refs: list[str]) -> Payloads:
    wanted = _int_ids(refs)
    found: Payloads = dict.fromkeys(refs)
    for m in Material.objects.filter(pk__in=wanted).select_related("case", "requirement"):
        found[wanted[m.pk]] = material_payload_of(m)
    return found


def material_views(refs: list[str]) -> dict[str, dict[str, Any] | None]:
    from workflows.actions import material_view_payload

    wanted = {int(ref.split(":", 1)[1]): ref for ref in refs if ref.split(":", 1)[1].isdigit()}
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(refs)
    for view in MaterialView.objects.filter(pk__in=wanted).select_related("case", "material"):
        found[wanted[view.pk]] = material_view_payload(view, view.case.number, view.material.sha256)
    return found


def register_sources() -> None:
    ledger.sources.register(case_events, key="case_event")
    ledger.sources.register(materials, key="material")
    ledger.sources.register(material_views, key="material_view")
