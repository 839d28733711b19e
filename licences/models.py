"""Result documents, revocations, the e-licence library, reuse consents and blank certificate stock.

Builds on ``workflows.results.Result`` (the record ``issue`` creates): this app renders and signs
it, lets its issuing authority revoke it, files delivered results into the holder's e-licence
library (电子证照库), records the applicant's consent when a later case reuses an e-licence or a
shared material (免提交), and tracks the pre-printed, serially numbered blank stock of the halls.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models import ResultType


class ResultDocument(models.Model):
    """The rendered, signed PDF of a result (one per result; re-rendering reproduces it)."""

    result = models.OneToOneField(
        "workflows.Result", verbose_name=_("办理结果"), on_delete=models.PROTECT, related_name="document"
    )
    template = models.CharField(_("模板"), max_length=32, choices=ResultType.choices)
    # Name in the default storage (MEDIA_ROOT or object storage): never under the web root.
    storage_name = models.CharField(_("存储位置"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    qr_payload = models.TextField(_("二维码签名载荷"))
    kid = models.CharField(_("签名密钥标识"), max_length=32)
    font_name = models.CharField(_("字体"), max_length=128)
    font_embedded = models.BooleanField(_("字体已嵌入"))
    render_ms = models.FloatField(_("生成耗时（毫秒）"))
    rendered_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    ledger_entry = models.ForeignKey(
        "ledger.Entry", verbose_name=_("存证条目"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("结果文书")
        verbose_name_plural = _("结果文书")

    def __str__(self) -> str:
        return f"{self.result_id} {self.sha256[:12]}"


class Revocation(models.Model):
    """撤销: the issuing authority withdraws a result, with a reason (also on Result.revoked_at)."""

    result = models.OneToOneField(
        "workflows.Result", verbose_name=_("办理结果"), on_delete=models.PROTECT, related_name="revocation"
    )
    reason = models.CharField(_("撤销原因"), max_length=255)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "services.Department", verbose_name=_("撤销部门"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"))
    ledger_entry = models.ForeignKey(
        "ledger.Entry", verbose_name=_("存证条目"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("结果撤销")
        verbose_name_plural = _("结果撤销")

    def __str__(self) -> str:
        return f"{self.result_id}: {self.reason}"


class ELicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    EXPIRED = "expired", _("已过期")
    REVOKED = "revoked", _("已撤销")


class ELicence(models.Model):
    """An entry of the holder's e-licence library (电子证照库): every delivered result."""

    result = models.OneToOneField(
        "workflows.Result", verbose_name=_("来源结果"), on_delete=models.PROTECT, related_name="e_licence"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持证人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="e_licences",
    )
    # The holder is identified by the keyed hash of the ID number (proxy applicants may have no account).
    holder_id_hash = models.CharField(_("持证人证件号码摘要"), max_length=64, db_index=True)
    holder_name = models.CharField(_("持证人"), max_length=128)
    # The catalog's e-licence vocabulary (MaterialRequirement.e_license_type): the item's result name
    # (e.g. 食品经营许可证); the item code is kept too, as some catalogs name licences by code.
    license_type = models.CharField(_("证照类型"), max_length=128, db_index=True)
    item_code = models.CharField(_("事项编码"), max_length=64, db_index=True)
    title = models.CharField(_("证照名称"), max_length=128)
    number = models.CharField(_("证照编号"), max_length=64)
    issuer = models.ForeignKey(
        "services.Department", verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("签发时间"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    registered_at = models.DateTimeField(_("入库时间"), default=timezone.now)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["holder_id_hash", "license_type"], name="elicence_holder_type")]

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"

    def status_on(self, day: object = None) -> str:
        if self.result.revoked_at is not None:
            return ELicenceStatus.REVOKED
        today = day or timezone.localdate()
        if self.valid_until is not None and self.valid_until < today:  # type: ignore[operator]
            return ELicenceStatus.EXPIRED
        return ELicenceStatus.VALID

    @property
    def status(self) -> str:
        return self.status_on()


class ReuseKind(models.TextChoices):
    E_LICENCE = "e_licence", _("电子证照免提交")
    SHARED_MATERIAL = "shared_material", _("共享材料复用")


class GrantChannel(models.TextChoices):
    SMS_CODE = "sms_code", _("申请人短信验证码授权")
    APPLICANT_SESSION = "applicant_session", _("申请人本人登录授权")


class ReuseGrant(models.Model):
    """The applicant's consent, given in the moment, that one staff member may see and attach the
    applicant's materials from other cases (e-licences, shared materials) for one case.

    Requested by the clerk; the applicant consents by reading back a one-time code texted to their
    VERIFIED phone (the account holding the case's ID number) or by approving in their own
    session. Short-lived (REUSE_GRANT_SECONDS); every reuse it allows records it (ReuseConsent)."""

    case = models.ForeignKey("workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+")
    granted_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("获授权人员"), on_delete=models.CASCADE, related_name="+"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("授权申请人"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("授权方式"), max_length=24, choices=GrantChannel.choices, blank=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    requested_at = models.DateTimeField(_("申请时间"))
    code_expires_at = models.DateTimeField(_("验证码过期时间"))
    consented_at = models.DateTimeField(_("授权时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("授权到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("材料复用授权")
        verbose_name_plural = _("材料复用授权")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["case", "granted_to", "expires_at"], name="reusegrant_active")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.granted_to_id} ({self.channel or 'pending'})"


class ReuseConsent(models.Model):
    """The applicant's consent that a case use an e-licence or a shared material instead of a
    fresh copy (免提交), recorded with who took it, where and when."""

    case = models.ForeignKey("workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+")
    requirement = models.ForeignKey(
        "services.MaterialRequirement", verbose_name=_("材料要求"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("复用方式"), max_length=16, choices=ReuseKind.choices)
    material = models.OneToOneField(
        "workflows.Material", verbose_name=_("办件材料"), on_delete=models.CASCADE, related_name="reuse_consent"
    )
    e_licence = models.ForeignKey(
        ELicence, verbose_name=_("电子证照"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_material = models.ForeignKey(
        "workflows.Material",
        verbose_name=_("共享来源材料"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    consent_text = models.CharField(_("告知内容"), max_length=255)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    # "applicant" when the applicant attached it online themselves; otherwise the channel of the
    # grant the applicant gave a clerk in the moment ("sms_code", "applicant_session"); "window"
    # only on rows from before grants existed (a clerk's say-so).
    channel = models.CharField(_("授权渠道"), max_length=24)
    grant = models.ForeignKey(
        ReuseGrant, verbose_name=_("当场授权"), null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    consented_at = models.DateTimeField(_("授权时间"))
    ledger_entry = models.ForeignKey(
        "ledger.Entry", verbose_name=_("存证条目"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("免提交授权")
        verbose_name_plural = _("免提交授权")
        ordering = ["case", "consented_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="e_licence") & Q(e_licence__isnull=False))
                | (Q(kind="shared_material") & Q(shared_material__isnull=False)),
                name="reuse_consent_names_its_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.requirement_id} {self.kind}"


class StockStatus(models.TextChoices):
    AVAILABLE = "available", _("可用")
    USED = "used", _("已使用")
    VOIDED = "voided", _("已作废")


class BlankStock(models.Model):
    """One sheet of pre-printed, serially numbered blank certificate stock (空白证书) held by a hall."""

    hall = models.ForeignKey("halls.Hall", verbose_name=_("场所"), on_delete=models.PROTECT, related_name="+")
    result_type = models.CharField(_("结果类型"), max_length=32, choices=ResultType.choices)
    serial = models.CharField(_("印制流水号"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=StockStatus.choices, default=StockStatus.AVAILABLE)
    result = models.ForeignKey(
        "workflows.Result",
        verbose_name=_("打印结果"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window = models.ForeignKey(
        "halls.Window", verbose_name=_("打证窗口"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("打证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    void_reason = models.CharField(_("作废原因"), max_length=255, blank=True)
    loaded_at = models.DateTimeField(_("入库时间"), default=timezone.now)

    class Meta:
        verbose_name = _("空白证书")
        verbose_name_plural = _("空白证书")
        ordering = ["hall", "result_type", "serial"]
        indexes = [
            models.Index(
                fields=["hall", "result_type", "serial"],
                condition=Q(status="available"),
                name="blankstock_available",
            )
        ]

    def __str__(self) -> str:
        return f"{self.serial}（{self.get_status_display()}）"
