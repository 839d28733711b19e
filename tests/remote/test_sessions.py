"""Remote video verification: who may join (at the WebSocket), the signalling relay, the outcome as
a verification record + case event in the ledger, expiry, the applicant's one-time link."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.utils import timezone

from ledger.models import Entry
from remote import actions
from remote.models import Peer, VerificationRecord, VideoSession
from remote.routing import websocket_urlpatterns
from workflows import actions as wf_actions
from workflows.models import Case, CaseEvent

app = URLRouter(websocket_urlpatterns)


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def received(wf):
    case = wf.receive()
    wf.upload_required(case, content=png())
    return case


def communicator(session, user=None, guest=None) -> WebsocketCommunicator:
    c = WebsocketCommunicator(app, f"/ws/remote/{session.pk}/")
    c.scope["user"] = user
    c.scope["session"] = {"remote_guest": guest or []}
    return c


# --- the signalling path ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_two_staff_posts_join_the_second_offers_and_signals_are_relayed(wf, received):
    started = await sync_to_async(actions.start_session)(case=received, actor=wf.users["zy_clerk"])
    session = started.session
    clerk = communicator(session, wf.users["zy_clerk"])
    ok, _ = await clerk.connect()
    assert ok
    welcome = await clerk.receive_json_from()
    assert welcome["type"] == "welcome" and welcome["side"] == "window" and welcome["offer"] is False
    assert welcome["ice_servers"] == []  # none by default

    approver = communicator(session, wf.users["yy_approver"])
    ok, _ = await approver.connect()
    assert ok
    welcome2 = await approver.receive_json_from()
    assert welcome2["side"] == "authority" and welcome2["offer"] is True
    assert (await clerk.receive_json_from()) == {"type": "peer-joined", "side": "authority"}

    await approver.send_json_to({"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}})
    assert (await clerk.receive_json_from()) == {"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}}
    assert await approver.receive_nothing(timeout=0.2)  # never echoed to the sender

    await clerk.send_json_to({"type": "connected"})
    assert (await clerk.receive_json_from())["state"] == "connected"
    session = await sync_to_async(VideoSession.objects.get)(pk=session.pk)
    assert session.state == "connected" and session.connected_at is not None

    await approver.disconnect()
    assert (await clerk.receive_json_from()) == {"type": "peer-left", "side": "authority"}
    assert await sync_to_async(Peer.objects.filter(session=session).count)() == 1
    await clerk.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "username", ["gy_clerk", "st_clerk", "hhg_approver", "yy_health", "sup_province", "hall_sup_zy", "citizen", None]
)
async def test_anyone_but_the_two_staff_posts_is_refused_at_the_websocket(wf, received, username):
    started = await sync_to_async(actions.start_session)(case=received, actor=wf.users["yy_approver"])
    user = wf.users[username] if username else None
    c = communicator(started.session, user)
    ok, code = await c.connect()
    assert not ok and code == 4403
    assert await sync_to_async(Peer.objects.count)() == 0


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_or_expired_session_is_refused(wf, received):
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        started = await sync_to_async(actions.start_session)(case=received, actor=wf.users["zy_clerk"])
    c = communicator(started.session, wf.users["zy_clerk"])
    ok, code = await c.connect()
    assert not ok and code == 4410
    session = await sync_to_async(VideoSession.objects.get)(pk=started.session.pk)
    assert session.state == "expired" and session.connected_at is None
    assert await sync_to_async(VerificationRecord.objects.count)() == 0

    bogus = WebsocketCommunicator(app, "/ws/remote/00000000-0000-0000-0000-000000000000/")
    bogus.scope["user"] = wf.users["zy_clerk"]
    bogus.scope["session"] = {}
    ok, code = await bogus.connect()
    assert not ok and code == 4403


# --- starting ----------------------------------------------------------------------------------


def test_start_from_received_only_by_the_two_posts_and_one_open_session(wf, received, drive):
    first = actions.start_session(case=received, actor=wf.users["zy_clerk"])
    assert first.created and first.session.started_side == "window"
    second = actions.start_session(case=received, actor=wf.users["yy_approver"])
    assert not second.created and second.session.pk == first.session.pk  # the other side joins it
    for name in ("gy_clerk", "hhg_approver", "sup_province"):
        with pytest.raises(actions.NotAMember):
            actions.start_session(case=received, actor=wf.users[name])
    verified = drive(wf.receive(), "verified")
    with pytest.raises(actions.SessionConflict):
        actions.start_session(case=verified, actor=wf.users["zy_clerk"])


def test_a_session_nobody_joins_expires_and_a_new_one_can_start(wf, received):
    with time_machine.travel(timezone.now() - timedelta(minutes=11), tick=False):
        old = actions.start_session(case=received, actor=wf.users["zy_clerk"]).session
    new = actions.start_session(case=received, actor=wf.users["zy_clerk"])
    assert new.created and new.session.pk != old.pk
    assert VideoSession.objects.get(pk=old.pk).state == "expired"


# --- the outcome -----------------------------------------------------------------------------


def _connected(session, channel: str = "test-channel") -> None:
    Peer.objects.create(session=session, side="window", channel_name=channel, joined_at=timezone.now())
    assert actions.mark_connected(session_id=str(session.pk), channel_name=channel)


def test_outcome_needs_a_connected_call_and_lands_in_timeline_and_ledger(wf, received, api_client):
    session = actions.start_session(case=received, actor=wf.users["zy_clerk"]).session
    api_client.force_authenticate(wf.users["yy_approver"])
    url = f"/api/v1/video-sessions/{session.pk}/outcome/"
    r = api_client.post(url, {"outcome": "identity_confirmed"}, format="json")
    assert r.status_code == 409 and "尚未接通" in r.json()["detail"]
    assert not CaseEvent.objects.filter(transition="video_verification").exists()

    _connected(session)
    r = api_client.post(url, {"outcome": "identity_confirmed"}, format="json")
    assert r.status_code == 201, r.content
    record = VerificationRecord.objects.get()
    assert record.recorded_side == "authority" and record.recorded_by == wf.users["yy_approver"]
    event = record.event
    assert (event.transition, event.from_state, event.to_state) == ("video_verification", "received", "received")
    assert event.seq == Case.objects.get(pk=received.pk).last_event_seq
    assert event.payload["outcome"] == "identity_confirmed" and event.payload["session"] == str(session.pk)
    entry = Entry.objects.get(ref=f"case_event:{event.pk}")
    assert entry.subject == f"case:{received.number}"

    assert api_client.post(url, {"outcome": "identity_confirmed"}, format="json").status_code == 409  # once
    assert api_client.post(url, {"outcome": "refused"}, format="json").status_code == 400  # needs a reason
    api_client.force_authenticate(wf.users["zy_clerk"])
    r = api_client.post(url, {"outcome": "refused", "reason": "本人与证件照片不符"}, format="json")
    assert r.status_code == 201 and r.json()["recorded_side"] == "window"
    api_client.force_authenticate(wf.users["gy_clerk"])
    assert api_client.post(url, {"outcome": "originals_confirmed"}, format="json").status_code == 404
    api_client.force_authenticate(wf.users["sup_province"])  # may read, not record
    assert (
        api_client.get(f"/api/v1/video-sessions/{session.pk}/").json()["records"][0]["outcome"] == "identity_confirmed"
    )
    assert api_client.post(url, {"outcome": "originals_confirmed"}, format="json").status_code == 403

    # The case's timeline (API and page) shows both facts; the chain of events stays unbroken.
    api_client.force_authenticate(wf.users["yy_approver"])
    events = api_client.get(f"/api/v1/cases/{received.number}/").json()["events"]
    assert [e["transition"] for e in events] == ["receive", "video_verification", "video_verification"]
    from django.core.management import call_command

    call_command("verify_ledger", "--sources")
    # The case moves on normally after the facts.
    case = wf_actions.verify(
        case=Case.objects.get(pk=received.pk),
        actor=wf.users["zy_clerk"],
        id_checked=True,
        originals_sighted=["id_card"],
    )
    assert case.state == "verified" and case.events.count() == 4


def test_originals_confirmed_by_video_raises_grades_to_meet_the_minimum(wf, received):
    req = wf.items["proxy"].materials.get(code="form")
    req.min_grade = "sighted"
    req.save()
    with pytest.raises(ValidationError):
        wf_actions.verify(case=received, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    session = actions.start_session(case=received, actor=wf.users["zy_clerk"]).session
    _connected(session)
    actions.record_outcome(session=session, actor=wf.users["yy_approver"], outcome="originals_confirmed")
    form = received.materials.get(requirement__code="form")
    assert form.grade == "sighted" and form.original_sighted_by == wf.users["yy_approver"]
    case = wf_actions.verify(
        case=Case.objects.get(pk=received.pk),
        actor=wf.users["zy_clerk"],
        id_checked=True,
        originals_sighted=["id_card"],
    )
    assert case.state == "verified"


def test_ending_is_for_the_sides_and_nothing_after(wf, received, api_client):
    session = actions.start_session(case=received, actor=wf.users["zy_clerk"]).session
    api_client.force_authenticate(wf.users["gy_clerk"])
    assert api_client.post(f"/api/v1/video-sessions/{session.pk}/end/").status_code == 404
    api_client.force_authenticate(wf.users["yy_approver"])
    r = api_client.post(f"/api/v1/video-sessions/{session.pk}/end/")
    assert r.status_code == 200 and r.json()["state"] == "ended"
    assert api_client.post(f"/api/v1/video-sessions/{session.pk}/end/").status_code == 409
    r = api_client.post(
        f"/api/v1/video-sessions/{session.pk}/outcome/", {"outcome": "identity_confirmed"}, format="json"
    )
    assert r.status_code == 409  # never connected


# --- pages -----------------------------------------------------------------------------------


def test_case_page_panel_and_call_page_are_only_for_the_two_sides(wf, received):
    from django.test import Client

    clerk = Client()
    clerk.force_login(wf.users["zy_clerk"])
    page = clerk.get(f"/workbench/cases/{received.number}/").content.decode()
    assert 'id="remote-panel"' in page and "发起窗口与审批部门视频核验" in page
    r = clerk.post(f"/workbench/cases/{received.number}/video/start/", {"kind": "staff"})
    session = VideoSession.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/video/{session.pk}/"
    call = clerk.get(r["Location"]).content.decode()
    assert 'src="/static/remote/call.js"' in call and "<script>" not in call  # no inline script
    approver = Client()
    approver.force_login(wf.users["yy_approver"])
    page = approver.get(f"/workbench/cases/{received.number}/").content.decode()
    assert f'href="/video/{session.pk}/"' in page  # join from the workbench
    for name in ("gy_clerk", "sup_province", "citizen"):
        other = Client()
        other.force_login(wf.users[name])
        assert other.get(f"/video/{session.pk}/").status_code == 404
    anonymous = Client()
    assert anonymous.get(f"/video/{session.pk}/").status_code == 302  # to the login page


# --- the applicant from home -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_applicant_joins_an_online_case_by_a_one_time_sms_link(wf, sms_outbox):
    from django.test import AsyncClient

    from notifications.models import OutboxMessage

    def prepare():
        case = wf.online()
        wf.upload_required(case, content=png())
        case = wf_actions.submit(case=case, actor=wf.users["citizen"])
        with pytest.raises(actions.NotAMember):
            actions.start_session(case=case, actor=wf.users["zy_clerk"], kind="applicant")
        started = actions.start_session(case=case, actor=wf.users["yy_approver"], kind="applicant")
        sms = OutboxMessage.objects.get(template="remote_video_invite")
        return case, started, sms

    case, started, sms = await sync_to_async(prepare)()
    assert sms.to.endswith("13800138000")
    sent = [m for m in sms_outbox if case.number in m.body and "视频核验" in m.body]
    assert len(sent) == 1
    path = re.search(r"(/video/j/[\w-]+/)", sent[0].body).group(1)
    assert path not in sms.body  # the stored copy keeps no usable link
    client = AsyncClient()
    r = await client.get(path)
    assert r.status_code == 302 and r["Location"] == f"/video/{started.session.pk}/"
    assert (await AsyncClient().get(path)).status_code == 410  # once only
    page = await client.get(r["Location"])
    assert page.status_code == 200 and b"outcome-form" not in page.content  # the applicant records nothing

    guest = communicator(started.session, None, guest=[str(started.session.pk)])
    ok, _ = await guest.connect()
    assert ok and (await guest.receive_json_from())["side"] == "applicant"
    stranger = communicator(started.session, None, guest=[])
    ok, code = await stranger.connect()
    assert not ok and code == 4403
    await guest.disconnect()
    # The async client's requests ran in a worker thread: close its connection, or PostgreSQL
    # refuses to drop the test database at the end of the run.
    from django.db import connections

    await sync_to_async(connections.close_all)()
