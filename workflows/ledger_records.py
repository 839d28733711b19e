"""What the ledger records about a case event and a material, and the calls that record them.

They live with the rows they describe (the ledger below knows only subjects, kinds, refs and
payloads): the workflow's actions call ``create_case_event`` / ``record_material`` in the
transaction that writes the row, and the verifier's source resolvers (workflows/ledger_sources.py)
rebuild exactly the same payload from the stored rows with the same builders.

Every ``record_*`` must run inside the transaction that created the row it records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from core.inserts import insert_of, mark_saved
from ledger.actions import Fact, NewSubjectFact, append, insert_all_and_append, insert_and_append, insert_new_and_append
from ledger.models import Entry, Kind


def case_subject(number: str) -> str:
    """One chain per case: everything about case ``number`` lands in ``case:<number>``."""
    return f"case:{number}"


def case_event_payload_of(event: Any, case_number: str | None = None) -> dict[str, Any]:
    """The ledger payload of a CaseEvent (``case_number`` saves loading ``event.case``)."""
    return {
        "case": case_number or event.case.number,
        "seq": event.seq,
        "transition": event.transition,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "at": event.at,
        "payload": event.payload or {},
    }


def _append_for_case(
    row: Any, case_number: str | None, *, kind: str, payload_of: Callable[[Any, str], dict[str, Any]], ref: str
) -> Entry:
    """Append ``row``'s entry to its case's chain: the payload ``payload_of`` builds, ref ``<ref>:<pk>``."""
    number = case_number or row.case.number
    return append(subject=case_subject(number), kind=kind, payload=payload_of(row, number), ref=f"{ref}:{row.pk}")


def record_case_event(event: Any, case_number: str | None = None) -> Entry:
    """Append a CaseEvent (call right after ``CaseEvent.objects.create`` in the same transaction)."""
    return _append_for_case(
        event, case_number, kind=Kind.CASE_EVENT, payload_of=case_event_payload_of, ref="case_event"
    )


def create_case_event(
    event: Any,
    case_number: str | None = None,
    *,
    guard: tuple[str, Sequence[Any]] | None = None,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> Entry | None:
    """Save the NEW (unsaved) CaseEvent ``event`` and append its ledger entry, in the caller's
    transaction: ``event.save()`` + ``record_case_event(event)`` in one round trip on PostgreSQL.

    ``guard`` (PostgreSQL): a data-modifying statement with RETURNING run first in the same
    statement (see ``ledger.actions.insert_and_append``); when it returns no row, neither the event
    nor the entry is written and None is returned. ``also`` (PostgreSQL): more writes of the
    caller's transaction that go in the same statement (``ledger.actions.insert_and_append``).
    Side effects: the CaseEvent row (``event.pk`` set) and its entry. No model signals are sent
    for the event row (it is a plain INSERT; CaseEvent has no receivers).
    """
    number = case_number or event.case.number
    sql, params = _insert_of(event, from_guard=guard is not None)
    written = insert_and_append(
        insert_sql=sql,
        params=params,
        subject=case_subject(number),
        kind=Kind.CASE_EVENT,
        payload=case_event_payload_of(event, number),
        ref_prefix="case_event:",
        guard=guard,
        also=also,
    )
    if written is None:
        return None
    event_id, entry = written
    event.pk = event_id
    mark_saved(event)
    return entry


def create_case_events(
    events: Sequence[Any],
    case_number: str,
    *,
    guard: tuple[str, Sequence[Any]] | None = None,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> bool:
    """``create_case_event`` for several NEW events of one case, in seq order, in ONE statement on
    PostgreSQL (``ledger.actions.insert_all_and_append``): a transition's follow-up steps. With
    ``guard``, False (nothing written) when it returns no row."""
    if len(events) == 1 or guard is None or connection.vendor != "postgresql":
        written_one = [create_case_event(e, case_number, guard=guard, also=also) for e in events]
        return all(w is not None for w in written_one)
    facts = [
        Fact(
            *insert_of(event, select_from="__prev__", returning=("id",)),
            kind=Kind.CASE_EVENT,
            payload=case_event_payload_of(event, case_number),
            ref_prefix="case_event:",
            at=timezone.now(),
        )
        for event in events
    ]
    written = insert_all_and_append(subject=case_subject(case_number), facts=facts, guard=guard, also=also)
    if written is None:
        return False
    for event, (event_id, _entry) in zip(events, written, strict=True):
        event.pk = event_id
        mark_saved(event)
    return True


def create_cases_with_first_events(pairs: Sequence[tuple[Any, Any]]) -> None:
    """PostgreSQL: INSERT each NEW (unsaved, numbered) Case of ``pairs`` with its NEW first
    CaseEvent and the event's ledger entry, all in ONE statement (``insert_new_and_append``): a
    joint case's sub-cases in one round trip instead of two per sub-case. Sets the cases' and the
    events' pks, as ``save()`` would (no model signals are sent: neither model has receivers)."""
    facts = [
        NewSubjectFact(
            row=insert_of(case, returning=("id",)),
            fact=insert_of(event, select_from=f"g{i}", computed={"case": f"g{i}.id"}, returning=("id",)),
            subject=case_subject(case.number),
            kind=Kind.CASE_EVENT,
            payload=case_event_payload_of(event, case.number),
            ref_prefix="case_event:",
        )
        for i, (case, event) in enumerate(pairs)
    ]
    for (case, event), (case_id, event_id, _entry) in zip(pairs, insert_new_and_append(facts), strict=True):
        case.pk = case_id
        mark_saved(case)
        event.case = case
        event.pk = event_id
        mark_saved(event)


def _insert_of(obj: Any, *, from_guard: bool = False) -> tuple[str, list[Any]]:
    """``INSERT ... RETURNING id`` of a model instance with an auto primary key named id
    (``from_guard``: ``INSERT ... SELECT ... FROM guard``, one row per row the guard CTE returned)."""
    assert obj._meta.pk.column == "id" and obj._meta.pk.db_returning, "an auto primary key named id"
    return insert_of(obj, select_from="guard" if from_guard else None, returning=("id",))


def material_payload_of(material: Any, case_number: str | None = None) -> dict[str, Any]:
    """The ledger payload of a Material: its digest and origin (``case_number`` saves loading ``material.case``)."""
    return {
        "case": case_number or material.case.number,
        "material": material.pk,
        "requirement": material.requirement.code,
        "source": material.source,
        "sha256": material.sha256,
        "size": material.size,
        "shared_from": material.shared_from_id,
        "e_license": str(material.e_license_id) if material.e_license_id else None,
        "uploaded_at": material.uploaded_at,
    }


def record_material(material: Any, case_number: str | None = None) -> Entry:
    """Append a Material's digest (call right after the Material row is saved, same transaction)."""
    return _append_for_case(
        material, case_number, kind=Kind.MATERIAL_DIGEST, payload_of=material_payload_of, ref="material"
    )
