"""The SMS outbox: every message is a row written in the transaction of its cause.

A row exists if and only if the change that caused it committed; Celery only ever carries the row's
id. The row's status is the truth about delivery to the provider; the provider's own delivery
report (status callbacks) is kept apart in `delivery_status`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.phones import PhoneField


class OutboxMessage(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        # A transient provider error; another attempt is due at next_attempt_at.
        FAILED = "failed", _("发送失败（待重试）")
        # Given up: a permanent error, or the last allowed attempt failed.
        DEAD = "dead", _("已放弃")

    class DeliveryStatus(models.TextChoices):
        # Twilio's MessageStatus values that matter for an outbound SMS.
        QUEUED = "queued", _("排队中")
        SENDING = "sending", _("运营商发送中")
        SENT = "sent", _("已发往运营商")
        DELIVERED = "delivered", _("已送达")
        UNDELIVERED = "undelivered", _("未送达")
        FAILED = "failed", _("发送失败")

    # Statuses the dispatcher may (re)send from.
    DUE_STATUSES = (Status.PENDING, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.SMS)
    to = PhoneField(_("接收号码"), max_length=32, help_text=_("E.164 格式，例如 +8613800138000"))
    template = models.CharField(_("模板"), max_length=64)
    body = models.TextField(_("短信内容"))
    context = models.JSONField(_("模板变量"), default=dict, blank=True)
    dedupe_key = models.CharField(
        _("幂等键"),
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text=_("同一幂等键只产生一条消息。"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"))
    claimed_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True, default="")
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=64, blank=True, default="", db_index=True)
    delivery_status = models.CharField(
        _("送达状态"), max_length=16, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_error_code = models.CharField(_("送达错误码"), max_length=16, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信发件箱消息")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at"]
        indexes = [
            # The dispatcher's sweep: due rows, oldest first. Partial, so it stays small however many
            # sent rows accumulate.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due_idx",
                condition=Q(status__in=["pending", "failed"]),
            ),
            # Rows stuck in "sending" (their worker died).
            models.Index(fields=["claimed_at"], name="outbox_sending_idx", condition=Q(status="sending")),
            models.Index(fields=["status", "created_at"], name="outbox_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.to} ({self.get_status_display()})"
