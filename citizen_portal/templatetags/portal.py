"""``{% portal_html_attrs %}``: the <html> attributes that select a skin and elderly mode.

One template set serves every city and skin: the site contributes its colours as CSS variables and
the skin / mode are data attributes that skins.css keys on.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from citizen_portal import prefs
from citizen_portal.models import HEX_RE

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_html_attrs(context: Any) -> SafeString:
    request = context.get("request")
    site = context.get("site")
    p = prefs.read(request, site) if request is not None else prefs.Prefs("standard", False, "")
    return format_html(' data-skin="{}" data-elderly="{}"', p.skin, "on" if p.elderly else "off")


@register.simple_tag(takes_context=True)
def portal_site_style(context: Any) -> SafeString:
    """The site's colours as CSS variables, in a <style> block carrying the response's CSP nonce:
    the policy allows styles from our own files only (style-src 'self'), so an inline style
    attribute would be dropped by the browser and every city would look the same."""
    request = context.get("request")
    site = context.get("site")
    if site is None or not (HEX_RE.match(site.accent or "") and HEX_RE.match(site.festive_accent or "")):
        return SafeString("")
    # Validated hex colours only: nothing an administrator types reaches the style block raw.
    nonce = getattr(request, "csp_nonce", "") if request is not None else ""
    return format_html(
        '<style nonce="{}">html[data-skin] {{ --site-accent: {}; --site-festive: {}; }}</style>',
        nonce,
        site.accent,
        site.festive_accent,
    )


@register.simple_tag(takes_context=True)
def portal_prefs(context: Any) -> prefs.Prefs:
    request = context.get("request")
    return prefs.read(request, context.get("site")) if request is not None else prefs.Prefs("standard", False, "")
