"""Admin of the outbox: read-only rows, filters, and a "retry" action for failed messages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from notifications.actions import retry_messages
from notifications.models import OutboxMessage
from notifications.templates_sms import all_templates, get_template


class TemplateFilter(admin.SimpleListFilter):
    title = _("模板")
    parameter_name = "template"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t.name, f"{t.description}（{t.name}）") for t in all_templates()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
        return queryset.filter(template=self.value()) if self.value() else queryset


_FIELDS: tuple[str, ...] = (
    "id",
    "channel",
    "to",
    "template_label",
    "safe_body",
    "safe_context",
    "dedupe_key",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "last_error",
    "provider_message_id",
    "delivery_status",
    "delivery_error_code",
    "created_at",
    "sent_at",
    "delivered_at",
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "to",
        "template_label",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "delivery_status",
    ]
    list_filter = ["status", "delivery_status", TemplateFilter, "channel", "created_at"]
    search_fields = ["to", "dedupe_key", "provider_message_id", "=id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 100
    actions = ["retry_selected"]
    fields = _FIELDS
    readonly_fields = _FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Messages come only from enqueue_sms, inside the transaction of their cause.
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Rows are read-only in the form, but putting one back in line is a change.
        return request.user.has_perm("notifications.change_outboxmessage")

    @admin.display(description=_("模板"), ordering="template")
    def template_label(self, obj: OutboxMessage) -> str:
        try:
            return f"{get_template(obj.template).description}（{obj.template}）"
        except ValueError:
            return obj.template

    @admin.display(description=_("短信内容"))
    def safe_body(self, obj: OutboxMessage) -> str:
        # A one-time code still waiting to go out must not be readable by staff.
        try:
            tpl = get_template(obj.template)
        except ValueError:
            return obj.body
        return tpl.render(tpl.redact(obj.context or {})) if tpl.sensitive else obj.body

    @admin.display(description=_("模板变量"))
    def safe_context(self, obj: OutboxMessage) -> dict[str, Any]:
        try:
            return get_template(obj.template).redact(obj.context or {})
        except ValueError:
            return obj.context

    @admin.action(description=_("重新发送所选的失败/已放弃消息"), permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        count = retry_messages(message_ids=selected, actor=request.user)
        skipped = len(selected) - count
        self.message_user(request, _("已重新排队 %(count)d 条消息。") % {"count": count}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _("%(skipped)d 条未重发：只能重发“发送失败”或“已放弃”的消息，已过期的验证码不重发。")
                % {"skipped": skipped},
                messages.WARNING,
            )
