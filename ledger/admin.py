"""Read-only admin views of the ledger: nobody edits or deletes a ledger row through the UI."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger.models import Batch, Entry, SubjectHead


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnly):
    list_display = ["id", "subject", "seq", "kind", "created_at", "batch"]
    list_filter = ["kind"]
    search_fields = ["subject", "ref", "entry_hash"]
    list_select_related = ["batch"]


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ["seq", "size", "root", "kid", "created_at"]


@admin.register(SubjectHead)
class SubjectHeadAdmin(ReadOnly):
    list_display = ["subject", "seq", "head_hash", "updated_at"]
    search_fields = ["subject"]
