"""The data migrations that bring every stored phone to E.164 (core.phone_migrations)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import AlterField, RunPython

from accounts.models import Role, User
from core.phone_migrations import rewrite
from core.phones import national, stored_or_raw

ACCOUNTS_BEFORE = [("accounts", "0002_real_name_evidence")]
ACCOUNTS_AFTER = [("accounts", "0003_phones_e164")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db
def test_rewrite_converts_only_what_changes():
    a = User.objects.create(username="a", role=Role.CITIZEN)
    b = User.objects.create(username="b", role=Role.WINDOW_CLERK)
    c = User.objects.create(username="c", role=Role.WINDOW_CLERK)
    # Write the old forms past PhoneField (a raw UPDATE, as rows written before the migration were).
    with connection.cursor() as cur:
        for pk, value in [(a.pk, "13800138000"), (b.pk, "+8613900000001"), (c.pk, "0851-1234")]:
            cur.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [value, pk])
    assert rewrite(User, "phone", stored_or_raw, batch=1) == 1
    stored = dict(User.objects.values_list("username", "phone"))
    assert stored == {"a": "+8613800138000", "b": "+8613900000001", "c": "0851-1234"}
    assert rewrite(User, "phone", stored_or_raw) == 0  # idempotent


@pytest.mark.django_db(transaction=True)
def test_accounts_migration_forwards_and_back():
    old = _migrate(ACCOUNTS_BEFORE)
    OldUser = old.get_model("accounts", "User")
    OldOtp = old.get_model("accounts", "OtpCode")
    OldUser.objects.create(username="citizen-13800138000", phone="13800138000", role="citizen")
    OldUser.objects.create(username="staff", phone="", role="window_clerk")
    from django.utils import timezone

    OldOtp.objects.create(phone="13800138000", code_hash="x", expires_at=timezone.now())

    new = _migrate(ACCOUNTS_AFTER)
    assert set(new.get_model("accounts", "User").objects.values_list("phone", flat=True)) == {"+8613800138000", ""}
    assert list(new.get_model("accounts", "OtpCode").objects.values_list("phone", flat=True)) == ["+8613800138000"]

    back = _migrate(ACCOUNTS_BEFORE)
    assert set(back.get_model("accounts", "User").objects.values_list("phone", flat=True)) == {"13800138000", ""}
    assert list(back.get_model("accounts", "OtpCode").objects.values_list("phone", flat=True)) == ["13800138000"]
    _migrate(ACCOUNTS_AFTER)


def _operations(module: str):
    return importlib.import_module(module).Migration.operations


def _raw(table: str, column: str, pk, value: str) -> None:
    # Writes past PhoneField, as rows written before the migration were.
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def test_each_migration_converts_rows_before_the_field_changes():
    for module in [
        "accounts.migrations.0003_phones_e164",
        "workflows.migrations.0006_applicant_phone_e164",
        "halls.migrations.0003_phones_e164",
        "ratings.migrations.0003_contact_phone_e164",
    ]:
        ops = _operations(module)
        assert isinstance(ops[0], RunPython), module
        assert all(isinstance(op, AlterField) for op in ops[1:]), module


def test_workflows_migration_functions_on_real_cases(wf):
    from workflows.models import Case

    cases = [wf.receive() for _ in range(3)]
    for case, old in zip(cases, ["13800138000", "+8613800138000", "008613800138000"], strict=True):
        _raw("workflows_case", "applicant_phone", case.pk, old)
    forwards = _operations("workflows.migrations.0006_applicant_phone_e164")[0]
    forwards.code(django_apps, None)
    assert set(Case.objects.values_list("applicant_phone", flat=True)) == {"+8613800138000"}
    # The way back runs on the historical CharField (see test_accounts_migration_forwards_and_back):
    # here only its conversion, since today's PhoneField would normalise the value again.
    assert forwards.reverse_code is not RunPython.noop and national("+8613800138000") == "13800138000"


def test_halls_migration_brings_old_rows_to_e164(live_hall):
    from halls.actions import issue_ticket
    from halls.models import QueueTicket

    pks = [issue_ticket(hall=live_hall, category="A", actor=None).ticket.pk for _ in range(3)]
    for pk, old in zip(pks, ["13800138000", "+8613800138000", ""], strict=True):
        _raw("halls_queueticket", "phone", pk, old)
    op = _operations("halls.migrations.0003_phones_e164")[0]
    assert op.reverse_code is RunPython.noop  # E.164 was their form already: nothing to undo
    op.code(django_apps, None)
    assert list(QueueTicket.objects.order_by("pk").values_list("phone", flat=True)) == [
        "+8613800138000",
        "+8613800138000",
        "",
    ]


def test_ratings_migration_is_not_undone():
    # Ratings held a mix (11 digits from cases, E.164 from tickets): which one each had is unknown.
    assert _operations("ratings.migrations.0003_contact_phone_e164")[0].reverse_code is RunPython.noop
