"""Admin of the city sites (banner, notices, featured items, look) and the zones' policy documents."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from citizen_portal import actions
from citizen_portal.models import AssistedApplication, CitySite, ItemGuide, MaterialSample, PolicyDocument, SiteNotice


class SiteNoticeInline(admin.StackedInline):
    model = SiteNotice
    extra = 0
    fields = ("title", "body", "published_at", "pinned", "is_active")


@admin.register(CitySite)
class CitySiteAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "default_skin", "host", "is_active", "position")
    list_editable = ("default_skin", "is_active", "position")
    search_fields = ("name", "key", "host")
    autocomplete_fields = ("featured_items",)
    raw_id_fields = ("region", "hall")
    inlines = [SiteNoticeInline]
    fieldsets = (
        (None, {"fields": ("key", "name", "region", "hall", "host", "is_active", "position")}),
        (_("外观"), {"fields": ("default_skin", "accent", "festive_accent", "culture_motto")}),
        (_("横幅与推荐"), {"fields": ("banner_title", "banner_text", "hotline", "featured_items")}),
    )


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "doc_number", "issuing_body", "published_on", "status")
    list_filter = ("status", "zones")
    search_fields = ("title", "doc_number", "issuing_body", "body")
    autocomplete_fields = ("items",)
    filter_horizontal = ("zones",)
    readonly_fields = ("status", "retired_at")
    date_hierarchy = "published_on"
    actions = ["publish", "retire"]

    @admin.action(description=_("发布所选政策文件"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        try:
            n = actions.publish_policies(ids=list(queryset.values_list("pk", flat=True)))
        except ValidationError as exc:
            self.message_user(request, "；".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, _("已发布 %(n)d 份文件。") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("废止所选政策文件"))
    def retire(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        n = actions.retire_policies(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("已废止 %(n)d 份文件。") % {"n": n}, messages.SUCCESS)


@admin.register(ItemGuide)
class ItemGuideAdmin(admin.ModelAdmin):
    list_display = ("item",)
    search_fields = ("item__name", "item__code")
    autocomplete_fields = ("item",)


@admin.register(MaterialSample)
class MaterialSampleAdmin(admin.ModelAdmin):
    list_display = ("requirement",)
    search_fields = ("requirement__name", "requirement__item__name")
    raw_id_fields = ("requirement",)


@admin.register(AssistedApplication)
class AssistedApplicationAdmin(admin.ModelAdmin):
    """Read-only: records are written by the window (citizen_portal.actions.record_assistance)."""

    list_display = ("case", "kind", "agent_name", "agent_id_masked", "relation", "recorded_by", "recorded_at")
    list_filter = ("kind",)
    search_fields = ("case__number", "agent_name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
