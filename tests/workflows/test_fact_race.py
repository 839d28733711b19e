"""A fact recorded between a clerk reading the case and their transition (a video verification's
outcome, recorded by the other side of the call) — on both databases, made deterministic by
holding a stale copy of the case. It used to take the seq the transition was about to write: the
event's INSERT hit the (case, seq) unique constraint and the request ended in a 500."""

from __future__ import annotations

import pytest
from django.db import transaction

from workflows import actions
from workflows.actions import TransitionConflict
from workflows.models import Case, CaseEvent, CaseState


@pytest.mark.django_db
def test_a_fact_recorded_meanwhile_makes_the_transition_a_409_that_writes_nothing(wf, api_client):
    case = wf.receive()
    wf.upload_required(case)
    stale = Case.objects.get(pk=case.pk)  # the clerk's page loaded the case here
    with transaction.atomic():
        fact = actions.record_case_fact(
            case=Case.objects.get(pk=case.pk), actor=wf.users["yy_approver"], name="video_verified", payload={}
        )
    events_before = list(CaseEvent.objects.filter(case=case).values_list("seq", "transition"))

    with pytest.raises(TransitionConflict) as refused:
        actions.verify(case=stale, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    assert refused.value.state == CaseState.RECEIVED
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", "transition")) == events_before
    assert Case.objects.get(pk=case.pk).state == CaseState.RECEIVED

    # The clerk retries on the fresh case (what the 409 tells the page to do): it goes through and
    # the chain stays one unbroken sequence with the fact inside it.
    actions.verify(
        case=Case.objects.get(pk=case.pk), actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"]
    )
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert fact.seq in seqs and Case.objects.get(pk=case.pk).state == CaseState.VERIFIED
