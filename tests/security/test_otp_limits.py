"""Finding 8 (OTP part): attempts are counted atomically, one valid code cannot answer unlimited
"is this ID registered?" probes, and the limits survive carrier-grade NAT while SMS bombing across
many numbers stays bounded."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from accounts import actions
from accounts.models import OtpCode, Role, User
from tests.fixtures.accounts import last_code, valid_id_number

PHONE = "13985012345"
ID = valid_id_number("52030219900101123")
NAT = "100.64.0.1"  # RFC 6598 shared address space: what a carrier-grade NAT shows us


def request_code(api_client, phone=PHONE, ip=NAT):
    return api_client.post("/api/v1/auth/otp/", {"phone": phone}, format="json", REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_guesses_that_all_read_the_code_before_any_counted_are_still_capped(settings, monkeypatch):
    """The race made deterministic (both databases): 40 verifications that each read the code row
    while its counter still said 0 — what parallel requests saw with check-then-increment."""
    settings.OTP_MAX_ATTEMPTS = 5
    actions.request_otp(phone=PHONE, ip=NAT)
    stale = OtpCode.objects.get()
    monkeypatch.setattr(actions, "_current_code", lambda phone, now: OtpCode.objects.get(pk=stale.pk) and stale)
    evaluated = []
    real_matches = actions._matches
    monkeypatch.setattr(actions, "_matches", lambda *a: evaluated.append(a) or real_matches(*a))
    guesses = [f"{i:06d}" for i in range(41) if not real_matches(stale.code_hash, PHONE, f"{i:06d}")][:40]
    for guess in guesses:
        with pytest.raises(ValidationError):
            actions.verify_otp(phone=PHONE, code=guess, name="张三", id_number=ID)
    assert len(evaluated) <= 5 and stale.attempts == 0
    assert OtpCode.objects.get().attempts == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_parallel_guesses_evaluate_at_most_max_attempts(settings, monkeypatch):
    settings.OTP_MAX_ATTEMPTS = 5
    actions.request_otp(phone=PHONE, ip=NAT)
    code = last_code(PHONE)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 41)]
    evaluated = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    real_matches = actions._matches

    def counting(stored, phone, guess):
        with lock:
            evaluated.append(guess)
        return real_matches(stored, phone, guess)

    monkeypatch.setattr(actions, "_matches", counting)

    def guess(value: str) -> str:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            actions.verify_otp(phone=PHONE, code=value, name="张三", id_number=ID)
            return "ok"
        except ValidationError:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(guess, wrong))
    assert results.count("refused") == 40
    assert len(evaluated) <= 5
    assert OtpCode.objects.get().attempts == 5
    # And the right code is dead too: the attempts are spent.
    with pytest.raises(ValidationError):
        actions.verify_otp(phone=PHONE, code=code, name="张三", id_number=ID)


@pytest.mark.django_db
def test_one_valid_code_answers_a_bounded_number_of_id_probes(settings, api_client, django_capture_on_commit_callbacks):
    from accounts.protect import lookup_hash, protect

    settings.OTP_MAX_ATTEMPTS = 5
    # Someone already holds ID; an attacker with their own phone and a valid code probes IDs.
    User.objects.create(
        username="owner",
        phone="13900000000",
        role=Role.CITIZEN,
        id_number_protected=protect(ID),
        id_number_hash=lookup_hash(ID),
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.request_otp(phone=PHONE, ip=NAT)
    code = last_code(PHONE)
    answers = []
    for _ in range(12):
        resp = api_client.post(
            "/api/v1/auth/otp/verify/", {"phone": PHONE, "code": code, "name": "乙", "id_number": ID}, format="json"
        )
        answers.append(resp.json().get("errors", {}).get("id_number", resp.json().get("errors", {}).get("code")))
    informative = [a for a in answers if a and "验证码" not in a[0]]
    assert 1 <= len(informative) <= 5
    # After the budget the code itself is refused: nothing more is learnt about any ID number.
    assert "验证码" in answers[-1][0]


@pytest.mark.django_db
def test_sixty_citizens_behind_one_nat_address_all_get_codes(settings, api_client):
    from rest_framework.test import APIClient

    # Three times the old per-address limit of 20 an hour.
    for i in range(60):
        c = APIClient()  # each citizen's phone is its own device
        assert request_code(c, phone=f"1398600{i:04d}").status_code == 202, i
    assert OtpCode.objects.filter(requested_ip=NAT).count() == 60


@pytest.mark.django_db
def test_one_device_is_limited_even_on_fresh_phone_numbers(settings, api_client):
    settings.OTP_PER_DEVICE_PER_HOUR = 3
    for i in range(3):
        assert request_code(api_client, phone=f"1398700{i:04d}").status_code == 202
    resp = request_code(api_client, phone="13987009999")
    assert resp.status_code == 429 and "频繁" in resp.json()["detail"]
    # A forged device cookie is not a fresh device for free: it is simply ignored.
    api_client.cookies["tb_device"] = "forged"
    assert request_code(api_client, phone="13987008888").status_code == 202


@pytest.mark.django_db
def test_global_breaker_bounds_bombing_across_many_numbers_but_known_devices_pass(
    settings, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from accounts.protect import lookup_hash, protect

    settings.OTP_GLOBAL_PER_HOUR = 5
    User.objects.create(
        username="citizen-known",
        phone="13988000000",
        role=Role.CITIZEN,
        real_name="丙",
        id_number_protected=protect(ID),
        id_number_hash=lookup_hash(ID),
    )
    known = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        assert request_code(known, phone="13988000000").status_code == 202
    resp = known.post(
        "/api/v1/auth/otp/verify/", {"phone": "13988000000", "code": last_code("13988000000")}, format="json"
    )
    assert resp.status_code == 200
    # A bomber rotating numbers, addresses and (dropped) cookies: bounded by the breaker.
    sent = 0
    for i in range(50):
        if request_code(APIClient(), phone=f"1398801{i:04d}", ip=f"203.0.113.{i}").status_code == 202:
            sent += 1
    assert sent == 4  # 5 per hour in all, the known device used one
    assert OtpCode.objects.count() == 5
    resp = request_code(APIClient(), phone="13988029999", ip="198.51.100.1")
    assert resp.status_code == 429 and "上限" in resp.json()["detail"]
    # The citizen who logged in on this phone before still gets a code.
    assert request_code(known, phone="13988000000", ip="198.51.100.2").status_code == 202
