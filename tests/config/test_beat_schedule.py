"""The whole Celery beat schedule lives in config/celery.py, built from the settings' periods."""

from __future__ import annotations

import io
from types import SimpleNamespace

from celery.schedules import crontab
from django.core.management import call_command

from config.celery import app, beat_schedule

EXPECTED = {
    "dispatch-outbox": ("notifications.tasks.dispatch_pending", 30.0),
    "appointment-no-shows": ("halls.tasks.mark_appointment_no_shows", 300.0),
    "open-appointment-slots": ("halls.tasks.open_slots", crontab(hour=1, minute=5)),
    "appointment-reminders": ("halls.tasks.send_appointment_reminders", crontab(hour=18, minute=0)),
    "workflows-sla-sweep": ("workflows.tasks.sweep_sla", 300.0),
    "ledger-seal-pending": ("ledger.tasks.seal_pending", 60.0),
    "licences-render-missing": ("licences.tasks.render_missing", 300.0),
    "licences-file-missing": ("licences.tasks.file_missing", 300.0),
    "ratings-invitations": ("ratings.tasks.send_rating_invitations", 3600.0),
    "ratings-escalation": ("ratings.tasks.escalate_overdue_rectifications", 900.0),
}


def test_every_entry_task_and_period():
    schedule = app.conf.beat_schedule
    assert {name: (e["task"], e["schedule"]) for name, e in schedule.items()} == EXPECTED


def test_every_entry_names_a_registered_task(db):
    app.loader.import_default_modules()
    assert {e["task"] for e in app.conf.beat_schedule.values()} <= set(app.tasks)


def test_periods_come_from_the_settings_tunables():
    tunables = SimpleNamespace(
        SMS_SWEEP_SECONDS=5, SLA_SWEEP_SECONDS=6, LEDGER_SEAL_SECONDS=7, RESULT_RENDER_SWEEP_SECONDS=8
    )
    periods = {name: e["schedule"] for name, e in beat_schedule(tunables).items()}
    assert periods["dispatch-outbox"] == 5.0
    assert periods["workflows-sla-sweep"] == 6.0
    assert periods["ledger-seal-pending"] == 7.0
    assert periods["licences-render-missing"] == 8.0


def test_no_app_adds_entries_of_its_own(settings):
    # Apps used to setdefault() entries in ready(): the schedule is now exactly what celery.py builds.
    assert set(app.conf.beat_schedule) == set(beat_schedule(settings))
    assert not hasattr(settings, "CELERY_BEAT_SCHEDULE")


def test_run_beat_inline_runs_every_entry(db):
    out = io.StringIO()
    call_command("run_beat_inline", "--once", stdout=out)
    listed = out.getvalue().splitlines()[0]
    for name in EXPECTED:
        assert name in listed
