"""Finding 7: staff lockout is by username AND address — a hall's NAT is not locked by one person's
typos, and nobody can lock a named account from another address."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Role
from tests.fixtures.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

HALL_NAT = "100.64.1.1"


def token(api_client, username, password, ip):
    return api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


@override_settings(AXES_FAILURE_LIMIT=5)
def test_lockout_is_per_username_and_address(api_client, make_user):
    make_user(Role.WINDOW_CLERK, username="typist")
    make_user(Role.WINDOW_CLERK, username="colleague")
    statuses = [token(api_client, "typist", "wrong", HALL_NAT).status_code for _ in range(5)]
    assert statuses == [401] * 4 + [429]  # the fifth failure locks
    # The account is locked from this address, even with the right password ...
    assert token(api_client, "typist", STRONG_PASSWORD, HALL_NAT).status_code == 429
    # ... but a colleague behind the same NAT still logs in,
    assert token(api_client, "colleague", STRONG_PASSWORD, HALL_NAT).status_code == 200
    # and the owner logs in from another address: an attacker elsewhere cannot lock them out.
    assert token(api_client, "typist", STRONG_PASSWORD, "198.51.100.20").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_attacker_cannot_lock_a_named_account_from_many_addresses(api_client, make_user):
    make_user(Role.APPROVER, username="victim")
    for i in range(12):
        token(api_client, "victim", "guess", f"203.0.113.{i // 2}")  # two tries from each address
    assert token(api_client, "victim", STRONG_PASSWORD, "198.51.100.30").status_code == 200
