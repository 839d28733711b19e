"""Language policy: Simplified Chinese unless the user chose otherwise with the switch."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ChineseByDefaultMiddleware:
    """Drop the browser's Accept-Language before LocaleMiddleware reads it.

    A government service site of Guizhou speaks Simplified Chinese to everyone by default; English
    is an explicit choice (the header's switch sets the language cookie), not a guess from a
    browser's settings — otherwise a clerk's English-language browser would change the workbench.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
