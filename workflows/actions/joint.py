"""Joint (联办) mode: a parent case spawns one sub-case per deciding authority."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from services.models import Mode
from workflows import ledger_records
from workflows.actions.clocks import _start_acceptance_clock
from workflows.actions.engine import _append_event, _event, hold_spawned_children
from workflows.models import (
    Case,
)
from workflows.routing import joint_authorities


def _spawn_children(parent: Case, now: datetime) -> None:
    """Joint mode: one sub-case per deciding authority, starting where the parent is now
    (transferred after hall intake, submitted online), each with its own acceptance clock.
    The parent's window, applicant and creator go over by id: the sub-case needs no more of them,
    and the parent was looked up without them (reading each was one query per sub-case)."""
    children: list[Case] = []
    payloads: list[dict[str, str]] = []
    for index, authority in enumerate(joint_authorities(item=parent.item, jurisdiction=parent.jurisdiction), start=1):
        child = Case(
            number=f"{parent.number}-{index:02d}",
            mode=Mode.JOINT,
            state=parent.state,
            parent=parent,
            item=parent.item,
            jurisdiction=parent.jurisdiction,
            authority=authority,
            receiving_hall=parent.receiving_hall,
            receiving_window_id=parent.receiving_window_id,
            cross_region=parent.cross_region,
            delivery_method=parent.delivery_method,
            delivery_hall=parent.delivery_hall,
            delivery_address=parent.delivery_address,
            applicant_id=parent.applicant_id,
            applicant_type=parent.applicant_type,
            applicant_name=parent.applicant_name,
            applicant_id_protected=parent.applicant_id_protected,
            applicant_id_hash=parent.applicant_id_hash,
            applicant_id_needs_review=parent.applicant_id_needs_review,
            applicant_phone=parent.applicant_phone,
            created_by_id=parent.created_by_id,
            committed_days=parent.committed_days,
            legal_days=parent.legal_days,
            auto_accept=parent.auto_accept,
            materials_seal=parent.materials_seal,
            form_data=parent.form_data,
            last_event_seq=1,
        )
        _start_acceptance_clock(child, now)
        children.append(child)
        payloads.append({"parent": parent.number, "authority": authority.code})
    if connection.vendor == "postgresql":
        # Every sub-case, its create event and the event's ledger entry in one statement.
        events = [
            _event(child, name="create", from_state="", actor=None, at=now, payload=payload)
            for child, payload in zip(children, payloads, strict=True)
        ]
        ledger_records.create_cases_with_first_events(list(zip(children, events, strict=True)))
        for child in children:
            child._update_initial_state()  # as ConcurrentTransitionMixin.save() leaves it
    else:
        for child, payload in zip(children, payloads, strict=True):
            child.save()
            _append_event(child, name="create", from_state="", actor=None, at=now, payload=payload)
    # They are all of the parent's sub-cases (spawned once: the numbers are unique): the response
    # to this step shows them as written instead of reading them back.
    hold_spawned_children(parent, children)
