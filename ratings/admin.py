"""Read-only admin views of 好差评 records.

Ratings, rectifications and appeals change only through their actions (tallies, deadlines,
escalation and the ledger of rectification events depend on it), so the admin shows them and
never edits them; supervisors act through the supervision pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ratings.models import Appeal, Rating, Rectification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "channel", "level", "hall", "window", "item", "rated_on", "counted")
    list_filter = ("kind", "channel", "level", "counted")
    search_fields = ("hall__name", "hall__code", "item__name", "case__number")
    date_hierarchy = "rated_on"
    list_select_related = ("hall", "window", "item")
    exclude = ("contact_phone",)  # personal data stays on the supervision pages, masked


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "state", "hall", "assignee", "deadline", "escalation_level", "replied_on_time")
    list_filter = ("state", "escalation_level", "replied_on_time")
    search_fields = ("hall__name", "hall__code")
    list_select_related = ("hall", "assignee")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("id", "rating", "state", "filed_by", "filed_at", "decided_by", "decided_at")
    list_filter = ("state",)
    list_select_related = ("filed_by", "decided_by")
