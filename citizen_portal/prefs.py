"""A visitor's display preferences: skin (standard / festive / high contrast) and elderly mode.

Kept in cookies, not the session: an anonymous visitor on a shared hall terminal keeps them without
an account, and they hold nothing personal. A site's administrator picks its default skin; the
visitor's own choice wins on every site.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from citizen_portal.models import CitySite, Skin

SKIN_COOKIE = "tb_skin"
ELDERLY_COOKIE = "tb_elderly"
COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Prefs:
    skin: str
    elderly: bool
    chosen_skin: str  # "" when the visitor has not chosen (the site's default applies)


def read(request: HttpRequest, site: CitySite | None = None) -> Prefs:
    chosen = request.COOKIES.get(SKIN_COOKIE, "")
    chosen = chosen if chosen in Skin.values else ""
    default = site.default_skin if site is not None else Skin.STANDARD
    return Prefs(
        skin=chosen or default,
        elderly=request.COOKIES.get(ELDERLY_COOKIE) == "1",
        chosen_skin=chosen,
    )
