"""Admin: documents, revocations and library entries are read-only; blank stock is managed here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from licences.models import BlankStock, ELicence, ResultDocument, ReuseConsent, Revocation


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ResultDocument)
class ResultDocumentAdmin(ReadOnly):
    list_display = ["result", "template", "sha256", "kid", "font_embedded", "render_ms", "rendered_at"]
    search_fields = ["result__number", "sha256"]


@admin.register(Revocation)
class RevocationAdmin(ReadOnly):
    list_display = ["result", "reason", "department", "revoked_by", "revoked_at"]


@admin.register(ELicence)
class ELicenceAdmin(ReadOnly):
    list_display = ["title", "number", "license_type", "holder_name", "issuer", "issued_at", "valid_until"]
    search_fields = ["number", "license_type", "item_code"]


@admin.register(ReuseConsent)
class ReuseConsentAdmin(ReadOnly):
    list_display = ["case", "requirement", "kind", "channel", "recorded_by", "consented_at"]


@admin.register(BlankStock)
class BlankStockAdmin(admin.ModelAdmin):
    list_display = ["serial", "hall", "result_type", "status", "result", "used_by", "used_at"]
    list_filter = ["status", "result_type"]
    search_fields = ["serial", "hall__name"]
    readonly_fields = ["result", "window", "used_by", "used_at"]
