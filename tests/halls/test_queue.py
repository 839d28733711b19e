"""Queue tickets: numbering, priority, call-next, transitions, wait estimates, the 3-ahead SMS."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from halls import actions, queue
from halls.models import QueueTicket, TicketPriority, TicketStatus, Window


def _issue(api_client, hall, category="A", **body):
    return api_client.post(f"/api/v1/halls/{hall.code}/tickets/", {"category": category, **body}, format="json")


@pytest.mark.django_db
class TestIssue:
    def test_numbers_per_category_and_position(self, api_client, live_hall):
        first = _issue(api_client, live_hall, "A")
        assert first.status_code == 201, first.content
        assert first.json()["number"] == "A001"
        assert first.json()["position"] == 1
        assert first.json()["estimated_wait_s"] == 0
        second = _issue(api_client, live_hall, "a")
        assert second.json()["number"] == "A002"
        assert second.json()["position"] == 2
        # One ahead, no history: the configured default service time per person.
        assert second.json()["estimated_wait_s"] == queue.default_service_seconds()
        other = _issue(api_client, live_hall, "B")
        assert other.json()["number"] == "B001"
        assert other.json()["position"] == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"category": "Z"}, "category"),
            ({"category": ""}, "category"),
            ({"category": "A", "priority": 7}, "priority"),
            ({"category": "A", "phone": "12345"}, "phone"),
        ],
    )
    def test_bad_input_refused_and_nothing_issued(self, api_client, live_hall, body, field):
        response = api_client.post(f"/api/v1/halls/{live_hall.code}/tickets/", body, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"]
        assert response.json()["detail"]
        assert not QueueTicket.objects.exists()

    def test_unknown_hall_404(self, api_client, live_hall):
        assert _issue(api_client, type("H", (), {"code": "nope"})()).status_code == 404

    def test_kiosk_takes_no_tickets(self, api_client, guizhou_regions, fresh_hall_index):
        from tests.fixtures.halls import make_hall

        kiosk = make_hall("520102", type="kiosk", windows="kiosk")
        response = _issue(api_client, kiosk, "A")
        assert response.status_code == 400
        assert not QueueTicket.objects.exists()

    def test_assisted_priority_only_from_staff_at_the_hall(self, api_client, live_hall, clerk_for):
        refused = _issue(api_client, live_hall, "A", priority=TicketPriority.ASSISTED)
        assert refused.status_code == 403
        assert not QueueTicket.objects.exists()
        api_client.force_authenticate(clerk_for(live_hall, "2"))
        granted = _issue(api_client, live_hall, "A", priority=TicketPriority.ASSISTED)
        assert granted.status_code == 201
        assert granted.json()["priority"] == TicketPriority.ASSISTED

    def test_appointment_priority_cannot_be_asked_for(self, api_client, live_hall):
        assert _issue(api_client, live_hall, "A", priority=TicketPriority.APPOINTMENT).status_code == 400


@pytest.mark.django_db
class TestCallNext:
    def test_calls_in_priority_then_arrival_order_and_204_when_empty(self, api_client, live_hall, clerk_for):
        clerk = clerk_for(live_hall, "2")  # window 2: general intake → queue A
        window = Window.objects.get(hall=live_hall, number="2")
        for _ in range(2):
            actions.issue_ticket(hall=live_hall, category="A", actor=None)
        assisted = actions.issue_ticket(
            hall=live_hall, category="A", actor=clerk, priority=TicketPriority.ASSISTED
        ).ticket
        api_client.force_authenticate(clerk)
        numbers = []
        for _ in range(3):
            response = api_client.post(f"/api/v1/windows/{window.pk}/call-next/")
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["status"] == "called"
            assert body["window"] == "2"
            numbers.append(body["number"])
        assert numbers == [assisted.number, "A001", "A002"]
        assert api_client.post(f"/api/v1/windows/{window.pk}/call-next/").status_code == 204

    def test_window_calls_only_the_queues_its_kinds_serve(self, api_client, live_hall, clerk_for):
        actions.issue_ticket(hall=live_hall, category="A", actor=None)
        issuing = Window.objects.get(hall=live_hall, number="3")
        api_client.force_authenticate(clerk_for(live_hall, "3"))
        assert api_client.post(f"/api/v1/windows/{issuing.pk}/call-next/").status_code == 204
        actions.issue_ticket(hall=live_hall, category="C", actor=None)
        assert api_client.post(f"/api/v1/windows/{issuing.pk}/call-next/").json()["number"] == "C001"

    def test_refused_for_strangers(self, api_client, live_hall, clerk_for, guizhou_regions):
        from tests.fixtures.halls import make_hall

        actions.issue_ticket(hall=live_hall, category="A", actor=None)
        window = Window.objects.get(hall=live_hall, number="2")
        assert api_client.post(f"/api/v1/windows/{window.pk}/call-next/").status_code in (401, 403)
        other_hall = make_hall("520103")
        api_client.force_authenticate(clerk_for(other_hall, "2"))
        assert api_client.post(f"/api/v1/windows/{window.pk}/call-next/").status_code == 404
        # Posted at the hall but at another window: forbidden, not hidden.
        api_client.force_authenticate(clerk_for(live_hall, "1"))
        assert api_client.post(f"/api/v1/windows/{window.pk}/call-next/").status_code == 403
        assert QueueTicket.objects.get().status == TicketStatus.WAITING


@pytest.mark.django_db
class TestTransitions:
    def _called(self, live_hall, clerk_for):
        clerk = clerk_for(live_hall, "1")
        actions.issue_ticket(hall=live_hall, category="A", actor=None)
        ticket = actions.call_next(window=Window.objects.get(hall=live_hall, number="1"), actor=clerk)
        assert ticket is not None
        return clerk, ticket

    def test_finish_then_refused_again_with_state(self, api_client, live_hall, clerk_for):
        clerk, ticket = self._called(live_hall, clerk_for)
        api_client.force_authenticate(clerk)
        assert api_client.post(f"/api/v1/tickets/{ticket.pk}/start/").json()["status"] == "serving"
        done = api_client.post(f"/api/v1/tickets/{ticket.pk}/finish/")
        assert done.status_code == 200
        assert done.json()["status"] == "done"
        again = api_client.post(f"/api/v1/tickets/{ticket.pk}/finish/")
        assert again.status_code == 409
        assert again.json()["state"] == "done"
        assert again.json()["allowed"] == []

    @pytest.mark.parametrize(
        ("first", "second", "expected"),
        [
            ("no_show", "finish", 409),
            ("no_show", "recall", 200),
            ("start", "no_show", 409),
            ("finish", "transfer", 409),
            ("start", "recall", 409),
        ],
    )
    def test_refused_paths_table(self, api_client, live_hall, clerk_for, first, second, expected):
        clerk, ticket = self._called(live_hall, clerk_for)
        api_client.force_authenticate(clerk)
        assert api_client.post(f"/api/v1/tickets/{ticket.pk}/{first}/").status_code == 200
        before = QueueTicket.objects.get(pk=ticket.pk).status
        response = api_client.post(f"/api/v1/tickets/{ticket.pk}/{second}/", {"category": "B"}, format="json")
        assert response.status_code == expected, response.content
        if expected == 409:
            assert QueueTicket.objects.get(pk=ticket.pk).status == before
            assert response.json()["state"] == before

    def test_transfer_keeps_priority_and_arrival(self, api_client, live_hall, clerk_for):
        clerk, ticket = self._called(live_hall, clerk_for)
        later = actions.issue_ticket(hall=live_hall, category="B", actor=None).ticket
        api_client.force_authenticate(clerk)
        response = api_client.post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"category": "B"}, format="json")
        assert response.status_code == 200, response.content
        old = QueueTicket.objects.get(pk=ticket.pk)
        assert old.status == TicketStatus.TRANSFERRED
        moved = old.transferred_to
        assert moved.category == "B" and moved.status == TicketStatus.WAITING
        assert moved.issued_at == old.issued_at
        # It arrived before `later`, so it is called first in queue B.
        assert queue.waiting_ahead(moved) == 0
        assert queue.waiting_ahead(QueueTicket.objects.get(pk=later.pk)) == 1

    def test_transfer_needs_a_valid_other_category(self, api_client, live_hall, clerk_for):
        clerk, ticket = self._called(live_hall, clerk_for)
        api_client.force_authenticate(clerk)
        for category in ("", "Z", "A"):
            response = api_client.post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"category": category}, format="json")
            assert response.status_code == 400
        assert QueueTicket.objects.get(pk=ticket.pk).status == TicketStatus.CALLED

    def test_unknown_transition_and_foreign_staff_404(self, api_client, live_hall, clerk_for, guizhou_regions):
        from tests.fixtures.halls import make_hall

        _clerk, ticket = self._called(live_hall, clerk_for)
        api_client.force_authenticate(clerk_for(make_hall("520103"), "1"))
        assert api_client.post(f"/api/v1/tickets/{ticket.pk}/finish/").status_code == 404
        assert api_client.post(f"/api/v1/tickets/{ticket.pk}/explode/").status_code == 404
        assert QueueTicket.objects.get(pk=ticket.pk).status == TicketStatus.CALLED


@pytest.mark.django_db
class TestEstimatesAndSms:
    def test_estimate_uses_median_of_recent_service_times(self, live_hall, clerk_for):
        clerk = clerk_for(live_hall, "2")
        window = Window.objects.get(hall=live_hall, number="2")
        now = timezone.now()
        for minutes in (4, 6, 8, 60):  # 60 is an outlier the median ignores
            t = actions.issue_ticket(hall=live_hall, category="A", actor=None).ticket
            QueueTicket.objects.filter(pk=t.pk).update(
                status=TicketStatus.DONE,
                window=window,
                called_by=clerk,
                called_at=now - dt.timedelta(minutes=minutes),
                finished_at=now,
            )
        assert queue.average_service_seconds(live_hall.pk, "A") == pytest.approx(7 * 60)
        assert queue.estimate_wait_seconds(live_hall.pk, "A", 3) == 3 * 7 * 60

    def test_sms_once_when_three_ahead(self, live_hall, clerk_for):
        from notifications.models import OutboxMessage

        clerk = clerk_for(live_hall, "2")
        window = Window.objects.get(hall=live_hall, number="2")
        tickets = [
            actions.issue_ticket(hall=live_hall, category="A", actor=None, phone=f"1380013{i:04d}").ticket
            for i in range(6)
        ]
        # The first four were already near the front when they took their number: no SMS.
        assert not OutboxMessage.objects.exists()
        actions.call_next(window=window, actor=clerk)  # A001 called; A005 now has three ahead
        messages = list(OutboxMessage.objects.all())
        assert len(messages) == 1
        assert messages[0].template == "queue_near"
        assert messages[0].to == "+8613800130004"
        assert tickets[4].number in messages[0].body and "3" in messages[0].body
        actions.call_next(window=window, actor=clerk)  # A006 now has three ahead
        actions.call_next(window=window, actor=clerk)
        assert OutboxMessage.objects.count() == 2
        assert set(OutboxMessage.objects.values_list("to", flat=True)) == {"+8613800130004", "+8613800130005"}
