"""Finding 8 (address part): the client address is the right-most hop not added by our own proxies,
validated as an IP; throttles, axes and stored addresses all use it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import OtpCode
from config.client_ip import resolve

PROXY = "10.0.0.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        (PROXY, "203.0.113.9", "203.0.113.9"),
        (PROXY, "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the spoofed left-most hop is ignored
        (PROXY, "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two proxies of ours
        (PROXY, "evil-not-an-ip", PROXY),  # garbage: keep what our proxy vouched for
        (PROXY, "203.0.113.9, evil-not-an-ip", PROXY),
        (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
        (PROXY, "203.0.113.9:51234", "203.0.113.9"),
        ("198.51.100.7", "1.2.3.4", "198.51.100.7"),  # not through our proxy: the header is ignored
        ("::ffff:10.0.0.5", "203.0.113.9", "203.0.113.9"),
        (PROXY, "", PROXY),
        ("not-an-ip", "1.2.3.4", None),
    ],
)
def test_resolve(peer, xff, expected):
    assert resolve(peer, xff) == expected


def test_without_trusted_proxies_the_header_is_ignored():
    assert resolve("198.51.100.7", "1.2.3.4") == "198.51.100.7"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], OTP_PER_IP_PER_HOUR=2, OTP_PER_DEVICE_PER_HOUR=100)
def test_stored_address_and_per_address_limit_cannot_be_spoofed(api_client):
    def ask(phone, xff):
        return api_client.post(
            "/api/v1/auth/otp/", {"phone": phone}, format="json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff
        )

    assert ask("13985000001", "evil-not-an-ip, 203.0.113.9").status_code == 202
    assert ask("13985000002", "1.1.1.1, 203.0.113.9").status_code == 202
    # A fresh spoofed left-most hop is not a fresh address.
    assert ask("13985000003", "2.2.2.2, 203.0.113.9").status_code == 429
    assert set(OtpCode.objects.values_list("requested_ip", flat=True)) == {"203.0.113.9"}


@pytest.mark.django_db
def test_drf_throttles_key_on_the_resolved_address(api_client, monkeypatch):
    from accounts.api import OtpVerifyThrottle

    monkeypatch.setattr(OtpVerifyThrottle, "THROTTLE_RATES", {"otp_verify": "3/hour"})
    codes = [
        api_client.post(
            "/api/v1/auth/otp/verify/",
            {"phone": "13985000001", "code": "000000"},
            format="json",
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",  # a new spoofed header each time
        ).status_code
        for i in range(5)
    ]
    # Without NUM_PROXIES DRF keyed on the whole header: every spoofed value was a fresh bucket.
    assert codes == [400, 400, 400, 429, 429]
