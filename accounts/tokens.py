"""API tokens that expire, rotate on every login and die on logout or by an admin.

DRF's authtoken Token has one key per user and its creation time: a token is valid for
STAFF_TOKEN_TTL_SECONDS (staff) or CITIZEN_TOKEN_TTL_SECONDS (citizens) after its creation. Each
login issues a new key (the old one stops working at once), logging out deletes it, and the
admin's "吊销令牌" action deletes it too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as drf_
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.baked import BakedQuery


def ttl(user: User) -> timedelta:
    if user.is_staff_role:
        return timedelta(seconds=int(settings.STAFF_TOKEN_TTL_SECONDS))
    return timedelta(seconds=int(settings.CITIZEN_TOKEN_TTL_SECONDS))


def issue(user: User) -> Token:
    """A fresh token for a login: any previous key of this user stops working."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def revoke(user: Any) -> int:
    deleted, _rows = Token.objects.filter(user=user).delete()
    return int(deleted)


# Every API call looks its token up: compiled once per process (core.baked), as DRF's own lookup
# (``select_related("user")`` by key) would compile it per call.
_token_by_key = BakedQuery(lambda key: Token.objects.select_related("user").filter(key=key))


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        # DRF's checks and messages (its own catalogue translates them), then the expiry.
        found = _token_by_key(key)
        if not found:
            raise exceptions.AuthenticationFailed(drf_("Invalid token."))
        token = found[0]
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(drf_("User inactive or deleted."))
        if timezone.now() - token.created > ttl(user):
            token.delete()
            raise exceptions.AuthenticationFailed(_("登录已过期，请重新登录。"))
        return user, token


@receiver(user_logged_out)
def _revoke_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Logging out of the site also ends the API token of the same person (shared kiosks, lost phones).
    if user is not None and getattr(user, "pk", None):
        revoke(user)
