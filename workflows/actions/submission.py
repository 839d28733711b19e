"""The steps before the authority decides: submit, verify, transfer, corrections and resubmission."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from accounts.models import User
from notifications.text import clause
from services.models import MaterialGrade, MaterialRequirement, grade_meets
from workflows import notify
from workflows.actions.clocks import CLOCK_FIELDS, _start_acceptance_clock, _stop_clock
from workflows.actions.engine import Step, _transition, hold_materials
from workflows.actions.intake import _check_materials_complete, current_materials
from workflows.actions.joint import _spawn_children
from workflows.models import (
    ACCEPTANCE_STATES,
    Case,
    CaseState,
    CorrectionNotice,
    Material,
)
from workflows.registry import CorrectionItem

S = CaseState


# --- transitions -----------------------------------------------------------------------------


def submit(*, case: Case, actor: User) -> Case:
    """Applicant sends an online application: draft → submitted; starts the 5-working-day
    acceptance clock; a joint parent spawns its sub-cases.
    Side effects: event; case_received SMS."""

    def prepare(c: Case, now: datetime) -> Step:
        _start_acceptance_clock(c, now)
        return Step(["submitted_at", *CLOCK_FIELDS], {})

    def after(c: Case, now: datetime) -> None:
        if c.is_joint_parent:
            _spawn_children(c, now)

    def check(c: Case) -> None:
        materials = _check_materials_complete(c)
        if materials is not None:
            hold_materials(c, materials)  # submitted: the materials cannot change any more

    return _transition(case, actor, "submit", prepare, after=after, check=check, notify=notify.case_received)


def verify(*, case: Case, actor: User, id_checked: bool, originals_sighted: Iterable[str]) -> Case:
    """Receiving clerk checked the applicant's identity and sighted the originals: received → verified.

    Every required material must be present; every material that needs its original must be
    listed in ``originals_sighted``. Records who sighted which original where and when, and seals
    the scans with a digest over their SHA-256s.
    Side effects: materials' verification records; event.
    """
    sighted = [str(c) for c in originals_sighted]
    loaded: dict[str, Any] = {}

    def check(c: Case) -> None:
        # One read of the requirements and one of the materials serve the checks and the records
        # (the materials as plain rows: id, requirement, its code, digest; no order needed).
        requirements = list(c.item.materials.all())
        # The rows as the response shows them (verified: they cannot change any more): prepare
        # records the sighting on them too, and the response does not read them again.
        materials = current_materials(c)
        loaded["materials"] = materials
        errors: dict[str, list[str]] = {}
        if id_checked is not True:
            errors["id_checked"] = [_("请先核验申请人身份证件。")]
        by_code = {r.code: r for r in requirements}
        unknown = [code for code in sighted if code not in by_code]
        if unknown:
            errors["originals_sighted"] = [_("未知的材料编码：%(codes)s。") % {"codes": "、".join(unknown)}]
        have = {m.requirement_id for m in materials}
        missing = [r for r in requirements if r.required and r.pk not in have]
        if missing:
            errors["materials"] = [_("缺少必要材料：%(names)s。") % {"names": "、".join(r.name for r in missing)}]
        unsighted = [r for r in requirements if r.original_needed and r.pk in have and r.code not in sighted]
        if unsighted and "originals_sighted" not in errors:
            errors["originals_sighted"] = [
                _("以下材料须核验原件：%(names)s。") % {"names": "、".join(r.name for r in unsighted)}
            ]
        below = _below_min_grade(requirements, materials, sighted)
        if below:
            errors["grades"] = [_("材料可信等级不足：%(items)s。") % {"items": "；".join(below)}]
        if errors:
            raise ValidationError(errors)

    def prepare(c: Case, now: datetime) -> Step:
        materials: list[Material] = loaded["materials"]
        marked = [m for m in materials if m.requirement.code in sighted]
        to_mark = [m.pk for m in marked]
        if to_mark:
            # The clerk saw the original of a submitted scan: it is now "sighted and sealed"
            # (an authority-issued material keeps its higher grade; a pledge has no original).
            # One UPDATE for the sighting record and the grade.
            Material.objects.filter(pk__in=to_mark).update(
                original_sighted_by=actor,
                original_sighted_at=now,
                original_sighted_hall=c.receiving_hall,
                grade=models.Case(
                    models.When(grade=MaterialGrade.UPLOADED, then=models.Value(MaterialGrade.SIGHTED)),
                    default=models.F("grade"),
                ),
            )
            for m in marked:  # what the UPDATE wrote, on the rows the response shows
                m.original_sighted_by = actor
                m.original_sighted_at = now
                m.original_sighted_hall = c.receiving_hall
                m.grade = _effective_grade(m.grade, True)
        hold_materials(c, materials)
        digest = hashlib.sha256(
            "\n".join(sorted(f"{m.requirement.code}:{m.sha256}" for m in materials)).encode()
        ).hexdigest()
        c.materials_seal = digest
        c.applicant_id_needs_review = False
        return Step(
            ["materials_seal", "applicant_id_needs_review"],
            {"id_checked": True, "originals_sighted": sorted(set(sighted)), "seal": digest},
        )

    return _transition(case, actor, "verify", prepare, check=check)


def _effective_grade(grade: str, sighted_now: bool) -> str:
    if sighted_now and grade == MaterialGrade.UPLOADED:
        return MaterialGrade.SIGHTED
    return grade


def _below_min_grade(
    requirements: Iterable[MaterialRequirement], materials: Iterable[Any], sighted: Iterable[str]
) -> list[str]:
    """One line per requirement whose current material is below the requirement's minimum grade
    (counting the originals sighted in this step), naming what is needed and what is there."""
    seen = set(sighted)
    grades = dict(MaterialGrade.choices)
    by_req = {m.requirement_id: m for m in materials}
    lines: list[str] = []
    for r in requirements:
        m = by_req.get(r.pk)
        if not r.min_grade or m is None:
            continue
        grade = _effective_grade(m.grade, r.code in seen)
        if not grade_meets(grade, r.min_grade):
            lines.append(
                _("“%(name)s”须达到“%(need)s”，当前为“%(have)s”")
                % {"name": r.name, "need": grades[r.min_grade], "have": grades.get(grade, grade)}
            )
    return lines


def check_min_grades(case: Case) -> list[Material] | None:
    """Refuse (400) when a current material is below its requirement's minimum grade (online cases
    reach the authority without a window's verify step: the authority's accept checks it). The
    live materials it read (None for a sub-case, whose file is its parent's)."""
    if case.is_subcase:
        return None
    materials = current_materials(case)
    below = _below_min_grade(list(case.item.materials.all()), materials, ())
    if below:
        raise ValidationError({"grades": [_("材料可信等级不足：%(items)s。") % {"items": "；".join(below)}]})
    return materials


def transfer(*, case: Case, actor: User) -> Case:
    """Receiving clerk sends the sealed file to the competent authority: verified → transferred;
    starts the acceptance clock; a joint parent spawns one sub-case per authority.
    Side effects: event (and sub-cases with their events)."""

    def prepare(c: Case, now: datetime) -> Step:
        _start_acceptance_clock(c, now)
        return Step(["submitted_at", *CLOCK_FIELDS], {"authority": c.authority.code if c.authority else None})

    def after(c: Case, now: datetime) -> None:
        if c.is_joint_parent:
            _spawn_children(c, now)

    return _transition(case, actor, "transfer", prepare, after=after)


def request_correction(*, case: Case, actor: User, items: Iterable[CorrectionItem]) -> Case:
    """一次性告知: list every problem at once: submitted / received / transferred → needs_correction.

    Stops the clock (it restarts in full on resubmission). Counts notices per case so supervisors
    can find cases that needed more than one.
    Side effects: a CorrectionNotice; event; case_needs_correction SMS with the whole list.
    """
    entries = list(items)

    def check(c: Case) -> None:
        if not entries:
            raise ValidationError({"items": [_("请列出需要补正的全部内容。")]})
        by_code = {r.code: r for r in c.item.materials.all()}
        errors: list[str] = []
        for i, e in enumerate(entries, start=1):
            if e.requirement and e.requirement not in by_code:
                errors.append(_("第%(i)s项：未知的材料编码 %(code)s。") % {"i": i, "code": e.requirement})
            if not (e.reason or "").strip():
                errors.append(_("第%(i)s项：请填写补正原因。") % {"i": i})
        if errors:
            raise ValidationError({"items": errors})

    notice_items: list[dict[str, str]] = []

    def prepare(c: Case, now: datetime) -> Step:
        by_code = {r.code: r for r in c.item.materials.all()}
        for e in entries:
            req = by_code.get(e.requirement or "")
            notice_items.append(
                {"requirement": req.code if req else "", "name": req.name if req else "", "reason": e.reason.strip()}
            )
        from_state = before
        c.correction_from = from_state
        c.correction_count += 1
        _stop_clock(c)
        CorrectionNotice.objects.create(
            case=c, items=notice_items, from_state=from_state, issued_by=actor, issued_at=now
        )
        return Step(
            ["correction_from", "correction_count", *CLOCK_FIELDS],
            {"items": notice_items, "notice": c.correction_count},
        )

    def texts(c: Case) -> None:
        notify.case_needs_correction(c, notice_items)

    # The state before the transition (the optimistic lock guarantees it is still the state when
    # the transition runs), remembered for resubmit.
    before = str(case.state)
    return _transition(case, actor, "request_correction", prepare, check=check, notify=texts)


def _clean_notes(notes: Mapping[Any, Any] | Iterable[Any] | None) -> dict[int, str]:
    """Notes per notice item, keyed by the item's number (1-based, as printed on the notice)."""
    if notes is None:
        return {}
    pairs = notes.items() if isinstance(notes, Mapping) else enumerate(notes, start=1)
    out: dict[int, str] = {}
    for key, value in pairs:
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise ValidationError({"notes": [_("补正说明的序号无效：%(key)s。") % {"key": key}]}) from None
        text = str(value or "").strip()
        if len(text) > 500:
            raise ValidationError({"notes": [_("第%(i)s项的说明不能超过 500 字。") % {"i": number}]})
        if text:
            out[number] = text
    return out


def correction_answers(
    case: Case, notice: CorrectionNotice, notes: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """How each item of ``notice`` is answered so far: by a material for its requirement handed in
    after the notice was issued, or by a note (the clerk's or the applicant's explanation). One row
    per item, in the notice's order: ``{"item", "name", "reason", "material", "note", "answered"}``."""
    notes = notes or {}
    source = case.parent if case.parent_id else case  # a sub-case's materials live on its parent
    fresh = {
        code: sha
        for code, sha in Material.objects.filter(
            case=source, superseded_at__isnull=True, uploaded_at__gte=notice.issued_at
        ).values_list("requirement__code", "sha256")
    }
    rows = []
    for number, entry in enumerate(notice.items or [], start=1):
        code = entry.get("requirement") or ""
        material = fresh.get(code, "") if code else ""
        note = notes.get(number, "")
        rows.append(
            {
                "item": number,
                "requirement": code,
                "name": entry.get("name") or "",
                "reason": entry.get("reason") or "",
                "material": material,
                "note": note,
                "answered": bool(material or note),
            }
        )
    return rows


def open_notice(case: Case) -> CorrectionNotice | None:
    return case.corrections.filter(resolved_at__isnull=True).order_by("-issued_at").first()


def resubmit(*, case: Case, actor: User, notes: Mapping[Any, Any] | Iterable[Any] | None = None) -> Case:
    """The applicant (online) or a window (hall) hands in the corrections: needs_correction → the
    state the notice came from (submitted / received / transferred). The acceptance clock restarts.

    Refused (400, naming what is still open) until EVERY item of the open correction notice is
    answered: a new material for the item's requirement handed in after the notice, or a note for
    that item (``notes``: item number → text) — otherwise 一次性告知 means nothing, a case could go
    back to the authority with nothing fixed.
    Side effects: resolves the open notice (recording each item's answer); event."""
    cleaned = _clean_notes(notes)
    answers: list[dict[str, Any]] = []

    def check(c: Case) -> None:
        notice = open_notice(c)
        if notice is not None:
            answers.extend(correction_answers(c, notice, cleaned))
            unknown = sorted(set(cleaned) - {a["item"] for a in answers})
            if unknown:
                raise ValidationError(
                    {"notes": [_("补正告知中没有第%(i)s项。") % {"i": "、".join(str(i) for i in unknown)}]}
                )
            still_open = [a for a in answers if not a["answered"]]
            if still_open:
                listed = "；".join(
                    f"{a['item']}. {a['name'] + '：' if a['name'] else ''}{clause(a['reason'])}" for a in still_open
                )
                raise ValidationError(
                    {
                        "corrections": [
                            _("以下补正事项尚未处理，请上传新材料或逐项填写说明：%(items)s") % {"items": listed}
                        ]
                    }
                )
        if c.correction_from != S.RECEIVED:
            _check_materials_complete(c)

    def prepare(c: Case, now: datetime) -> Step:
        notice = open_notice(c)
        if notice is not None:
            items = [dict(entry) for entry in notice.items or []]
            for entry, answer in zip(items, answers, strict=False):
                entry["answer"] = {"material": answer["material"], "note": answer["note"]}
            notice.items = items
            notice.resolved_at = now
            notice.save(update_fields=["items", "resolved_at"])
        CorrectionNotice.objects.filter(case=c, resolved_at__isnull=True).update(resolved_at=now)
        if c.state in ACCEPTANCE_STATES:
            _start_acceptance_clock(c, now)
        payload = {"answers": [{"item": a["item"], "material": a["material"], "note": a["note"]} for a in answers]}
        return Step(["submitted_at", *CLOCK_FIELDS], payload if answers else {})

    return _transition(case, actor, "resubmit", prepare, check=check)
