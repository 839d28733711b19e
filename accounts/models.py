"""Users, roles and jurisdiction, plus the citizens' one-time login codes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.protect import mask_id_number, mask_phone, reveal
from core.phones import PhoneField


class Role(models.TextChoices):
    CITIZEN = "citizen", _("申请人")
    WINDOW_CLERK = "window_clerk", _("窗口人员")
    APPROVER = "approver", _("审批人员")
    HALL_SUPERVISOR = "hall_supervisor", _("大厅监督人员")
    SUPERVISOR = "supervisor", _("监督人员")
    ADMIN = "admin", _("管理员")


STAFF_ROLES = {Role.WINDOW_CLERK, Role.APPROVER, Role.HALL_SUPERVISOR, Role.SUPERVISOR, Role.ADMIN}


class ApplicantType(models.TextChoices):
    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人")


class VerificationSource(models.TextChoices):
    REAL_NAME_SERVICE = "real_name_service", _("全国实名核验服务")
    WINDOW_RECORD = "window_record", _("窗口收件核验记录")
    WINDOW_CLERK = "window_clerk", _("窗口人员当面核验")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.CITIZEN, db_index=True)
    # Supervisors (and admins limited to a region) see everything under this region.
    region = models.ForeignKey(
        "govmap.Region", verbose_name=_("管辖区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Approvers act for one department (the competent authority).
    department = models.ForeignKey(
        "services.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    phone = PhoneField(_("手机号"), max_length=20, blank=True, db_index=True)
    real_name = models.CharField(_("真实姓名"), max_length=64, blank=True)
    applicant_type = models.CharField(_("申请人类型"), max_length=16, choices=ApplicantType.choices, blank=True)
    # The ID number (or USCC) is encrypted at rest; the keyed hash allows lookups without decrypting.
    id_number_protected = models.TextField(_("证件号码（加密）"), blank=True, editable=False)
    id_number_hash = models.CharField(_("证件号码摘要"), max_length=64, blank=True, db_index=True, editable=False)
    # Set when the check digit is right but the region code is unknown to python-stdnum's table
    # (e.g. 黔西市 520581, created 2021): the citizen is accepted and a clerk confirms the document.
    id_needs_review = models.BooleanField(_("证件待人工核验"), default=False)
    # Evidence that the ID number belongs to this phone's holder (accounts.realname): until it is
    # set the binding is only a declaration and nothing is linked to the account by the ID number.
    id_verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)
    id_verified_via = models.CharField(_("实名核验方式"), max_length=24, choices=VerificationSource.choices, blank=True)
    id_verified_by = models.ForeignKey(
        "self", verbose_name=_("核验人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=models.Q(role="citizen") & ~models.Q(phone=""), name="one_citizen_per_phone"
            ),
        ]

    @property
    def id_number(self) -> str:
        return reveal(self.id_number_protected) if self.id_number_protected else ""

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def id_verified(self) -> bool:
        return self.id_verified_at is not None and bool(self.id_number_hash)


class ClaimReason(models.TextChoices):
    BOUND_ELSEWHERE = "bound_elsewhere", _("证件号码已由其他手机号实名绑定")
    SERVICE_MISMATCH = "service_mismatch", _("实名核验服务：手机号与证件不符")
    RECORD_MISMATCH = "record_mismatch", _("窗口核验记录中的手机号与本手机号不同")


class IdentityClaim(models.Model):
    """A refused claim of an ID number by a phone, kept for a clerk to settle at a window.

    Conflicting claims are never merged automatically: the claimant is told to bring the ID card to
    a window, and the clerk who confirms the binding there closes the claim."""

    phone = PhoneField(_("手机号"), max_length=20, db_index=True)
    id_number_hash = models.CharField(_("证件号码摘要"), max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("证件号码"), max_length=32)
    name = models.CharField(_("申报姓名"), max_length=64, blank=True)
    reason = models.CharField(_("原因"), max_length=24, choices=ClaimReason.choices)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(_("申报次数"), default=1)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(_("处理结果"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("实名绑定冲突")
        verbose_name_plural = _("实名绑定冲突")
        ordering = ["-created_at"]
        constraints = [
            # One open claim per (phone, ID number, reason): repeated attempts count, not multiply.
            models.UniqueConstraint(
                fields=["phone", "id_number_hash", "reason"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_identity_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone_masked} → {self.id_number_masked} ({self.get_reason_display()})"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class OtpCode(models.Model):
    """A one-time SMS login code. Only a salted hash is stored; single use; short-lived."""

    phone = PhoneField(_("手机号"), max_length=20, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=128)
    requested_ip = models.GenericIPAddressField(_("请求地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["requested_ip", "created_at"])]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} @ {self.created_at:%Y-%m-%d %H:%M}"
