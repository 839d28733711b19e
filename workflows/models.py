"""The case (办件): its state machine, events, materials, correction notices and clocks.

Transition methods below ONLY move the state (django-fsm-2, protected field, optimistic
concurrency on the state column). Who may call them, what gets written alongside and which
notifications go out lives in ``workflows.actions``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from accounts.protect import mask_id_number, mask_phone, reveal
from core.phones import PhoneField
from services.models import MaterialGrade, Mode
from workflows.results import Result

__all__ = [
    "Case",
    "CaseEvent",
    "CaseSequence",
    "CaseState",
    "CorrectionNotice",
    "DeliveryMethod",
    "Material",
    "MaterialGrade",
    "MaterialSource",
    "MaterialView",
    "Mode",
    "Result",
    "SlaStatus",
]


class CaseState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RECEIVED = "received", _("已收件")
    VERIFIED = "verified", _("已核验")
    TRANSFERRED = "transferred", _("已流转")
    NEEDS_CORRECTION = "needs_correction", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    UNDER_REVIEW = "under_review", _("审查中")
    SUSPENDED = "suspended", _("特别程序")
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予批准")
    ISSUED = "issued", _("已出证")
    PRINT_QUEUED = "print_queued", _("待打证")
    READY_FOR_PICKUP = "ready_for_pickup", _("待领取")
    MAILED = "mailed", _("已寄出")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")


S = CaseState

# Where the acceptance clock (5 working days) runs, and where the decision clock runs.
ACCEPTANCE_STATES = (S.SUBMITTED, S.TRANSFERRED)
DECISION_STATES = (S.ACCEPTED, S.UNDER_REVIEW)
TERMINAL_STATES = (S.REJECTED, S.DENIED, S.DELIVERED, S.WITHDRAWN)
# "any state before approved/denied/rejected"
WITHDRAWABLE_STATES = (
    S.DRAFT,
    S.SUBMITTED,
    S.RECEIVED,
    S.VERIFIED,
    S.TRANSFERRED,
    S.NEEDS_CORRECTION,
    S.ACCEPTED,
    S.UNDER_REVIEW,
    S.SUSPENDED,
)


class DeliveryMethod(models.TextChoices):
    PICKUP = "pickup", _("窗口领取")
    MAIL = "mail", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")


class SlaStatus(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超期")


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", _("网上上传")
    WINDOW_SCAN = "window_scan", _("窗口扫描")
    E_LICENSE = "e_license", _("电子证照库")
    SHARED = "shared", _("共享材料库")
    PLEDGE = "pledge", _("告知承诺")


class CaseSequence(models.Model):
    """Per region and day counter behind the human-readable case number (520302-20261124-000123)."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("办件编号序列")
        verbose_name_plural = _("办件编号序列")
        constraints = [models.UniqueConstraint(fields=["region_code", "day"], name="case_sequence_region_day")]

    def __str__(self) -> str:
        return f"{self.region_code}-{self.day:%Y%m%d}: {self.last}"


class Case(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("办件编号"), max_length=32, unique=True)
    mode = models.CharField(_("办理模式"), max_length=16, choices=Mode.choices)
    state = FSMField(_("状态"), choices=CaseState.choices, default=CaseState.DRAFT, protected=True, db_index=True)
    item = models.ForeignKey("services.Item", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="cases")
    # Joint mode: the parent holds one sub-case per authority; sub-cases point at it.
    parent = models.ForeignKey(
        "self", verbose_name=_("主件"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    jurisdiction = models.ForeignKey(
        "govmap.Region", verbose_name=_("属地"), on_delete=models.PROTECT, related_name="cases"
    )
    # The competent authority; empty for a joint parent (its children each have one).
    authority = models.ForeignKey(
        "services.Department",
        verbose_name=_("办理部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    receiving_hall = models.ForeignKey(
        "halls.Hall",
        verbose_name=_("收件场所"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_cases",
    )
    receiving_window = models.ForeignKey(
        "halls.Window", verbose_name=_("收件窗口"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # 通办: the receiving hall lies outside the jurisdiction.
    cross_region = models.BooleanField(_("跨区域通办"), default=False)

    delivery_method = models.CharField(_("送达方式"), max_length=16, choices=DeliveryMethod.choices)
    delivery_hall = models.ForeignKey(
        "halls.Hall",
        verbose_name=_("领证场所"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delivery_cases",
    )
    delivery_address = models.CharField(_("邮寄地址"), max_length=255, blank=True)
    tracking_number = models.CharField(_("邮件单号"), max_length=64, blank=True)

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    applicant_type = models.CharField(_("申请人类型"), max_length=16, default="person")
    applicant_name = models.CharField(_("申请人"), max_length=128)
    applicant_id_protected = models.TextField(_("证件号码（加密）"), blank=True, editable=False)
    applicant_id_hash = models.CharField(_("证件号码摘要"), max_length=64, blank=True, db_index=True, editable=False)
    applicant_id_needs_review = models.BooleanField(_("证件待人工核验"), default=False)
    applicant_phone = PhoneField(_("联系电话"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Clock snapshots from the item at creation: a later catalog edit does not move running clocks.
    committed_days = models.PositiveIntegerField(_("承诺时限（工作日）"))
    legal_days = models.PositiveIntegerField(_("法定时限（工作日）"))
    auto_accept = models.BooleanField(_("逾期视为受理"), default=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("申请送达部门时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("特别程序开始"), null=True, blank=True)
    suspended_days = models.PositiveIntegerField(_("特别程序累计工作日"), default=0)

    # Deadlines shown to people, plus the running clock's thresholds the sweep compares with "now":
    # both are plain indexed columns so the sweep is a handful of UPDATE ... WHERE statements.
    accept_by = models.DateTimeField(_("受理期限"), null=True, blank=True)
    decide_by = models.DateTimeField(_("办结期限"), null=True, blank=True)
    clock_warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    clock_due_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    sla_status = models.CharField(_("时限状态"), max_length=8, choices=SlaStatus.choices, blank=True)
    sla_alert_pending = models.BooleanField(_("待发时限提醒"), default=False)

    correction_count = models.PositiveSmallIntegerField(_("补正告知次数"), default=0)
    # The state a correction was requested from; resubmit returns there (online: submitted,
    # window: received, authority after transfer: transferred).
    correction_from = models.CharField(max_length=20, blank=True, editable=False)
    materials_seal = models.CharField(_("材料封存摘要"), max_length=64, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    legal_basis = models.TextField(_("法律依据"), blank=True)
    # The facts the result certifies, as entered at intake (workflows.facts: keys per result type
    # and item); the result document prints them.
    form_data = models.JSONField(_("申请事项信息"), default=dict, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["authority", "state"], name="case_authority_state"),
            models.Index(fields=["receiving_hall", "state"], name="case_rhall_state"),
            models.Index(fields=["delivery_hall", "state"], name="case_dhall_state"),
            models.Index(fields=["applicant", "state"], name="case_applicant_state"),
            # 我的办件 (the applicant's cases, newest first) reads the first page straight from this
            # index; without it PostgreSQL sorted all of an applicant's cases per page (4 ms for an
            # applicant with a few thousand, e.g. a company, in bench/bench_api.py's reads).
            models.Index(fields=["applicant", "-created_at", "-id"], name="case_applicant_recent"),
            # The sweep: "green cases whose warning time passed", "cases whose due time passed".
            models.Index(fields=["sla_status", "clock_warn_at"], name="case_sla_warn"),
            models.Index(fields=["sla_status", "clock_due_at"], name="case_sla_due"),
            models.Index(fields=["sla_alert_pending"], condition=Q(sla_alert_pending=True), name="case_sla_alert"),
            models.Index(fields=["correction_count"], condition=Q(correction_count__gt=1), name="case_repeat_corr"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(delivery_method="pickup") | Q(delivery_hall__isnull=False), name="pickup_needs_hall"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # --- reads -----------------------------------------------------------------------------
    @property
    def applicant_id_number(self) -> str:
        return reveal(self.applicant_id_protected) if self.applicant_id_protected else ""

    @property
    def applicant_id_masked(self) -> str:
        return mask_id_number(self.applicant_id_number)

    @property
    def applicant_phone_masked(self) -> str:
        return mask_phone(self.applicant_phone)

    @property
    def is_joint_parent(self) -> bool:
        return self.mode == Mode.JOINT and self.parent_id is None

    @property
    def is_subcase(self) -> bool:
        return self.parent_id is not None

    @property
    def at_hall(self) -> bool:
        """Intake at a hall window (proxy, or a joint case received at a hall)."""
        return self.receiving_hall_id is not None

    def _not_subcase(self: Any) -> bool:  # an FSM condition (typed for django-fsm's Model signature)
        return self.parent_id is None

    def _pickup(self: Any) -> bool:
        return self.delivery_method == DeliveryMethod.PICKUP

    def _mail(self: Any) -> bool:
        return self.delivery_method == DeliveryMethod.MAIL

    def _electronic(self: Any) -> bool:
        return self.delivery_method == DeliveryMethod.ELECTRONIC

    def _withdrawable(self: Any) -> bool:
        # A sub-case is withdrawn only together with its parent.
        return self.parent_id is None or (self.parent is not None and self.parent.state == CaseState.WITHDRAWN)

    def _new(self: Any) -> bool:
        return self._state.adding

    # --- transitions: state only ------------------------------------------------------------
    @transition(field=state, source=S.DRAFT, target=S.RECEIVED, conditions=[_new])
    def receive(self) -> None:
        """(new) → received: a hall window creates the case."""

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED, conditions=[_not_subcase])
    def submit(self) -> None: ...

    @transition(field=state, source=S.RECEIVED, target=S.VERIFIED)
    def verify(self) -> None: ...

    @transition(field=state, source=S.VERIFIED, target=S.TRANSFERRED)
    def transfer(self) -> None: ...

    @transition(field=state, source=[S.SUBMITTED, S.RECEIVED, S.TRANSFERRED], target=S.NEEDS_CORRECTION)
    def request_correction(self) -> None: ...

    @transition(field=state, source=S.NEEDS_CORRECTION, target=RETURN_VALUE(S.SUBMITTED, S.RECEIVED, S.TRANSFERRED))
    def resubmit(self) -> str:
        return self.correction_from or (S.SUBMITTED if self.receiving_hall_id is None else S.TRANSFERRED)

    @transition(field=state, source=[S.SUBMITTED, S.TRANSFERRED], target=S.ACCEPTED)
    def accept(self) -> None: ...

    @transition(field=state, source=[S.SUBMITTED, S.TRANSFERRED], target=S.REJECTED)
    def reject(self) -> None: ...

    @transition(field=state, source=S.ACCEPTED, target=S.UNDER_REVIEW)
    def start_review(self) -> None: ...

    @transition(field=state, source=S.UNDER_REVIEW, target=S.SUSPENDED)
    def suspend(self) -> None: ...

    @transition(field=state, source=S.SUSPENDED, target=S.UNDER_REVIEW)
    def resume(self) -> None: ...

    @transition(field=state, source=S.UNDER_REVIEW, target=S.APPROVED)
    def approve(self) -> None: ...

    @transition(field=state, source=S.UNDER_REVIEW, target=S.DENIED)
    def deny(self) -> None: ...

    # A sub-case's result is issued and delivered with its parent's (the applicant goes to one place).
    @transition(field=state, source=S.APPROVED, target=S.ISSUED, conditions=[_not_subcase])
    def issue(self) -> None: ...

    @transition(field=state, source=S.ISSUED, target=S.PRINT_QUEUED, conditions=[_pickup])
    def queue_print(self) -> None: ...

    @transition(field=state, source=S.PRINT_QUEUED, target=S.READY_FOR_PICKUP)
    def print(self) -> None: ...

    @transition(field=state, source=S.READY_FOR_PICKUP, target=S.DELIVERED)
    def hand_over(self) -> None: ...

    @transition(field=state, source=S.ISSUED, target=S.MAILED, conditions=[_mail])
    def mail(self) -> None: ...

    @transition(field=state, source=S.MAILED, target=S.DELIVERED)
    def confirm_receipt(self) -> None: ...

    @transition(field=state, source=S.ISSUED, target=S.DELIVERED, conditions=[_electronic])
    def deliver_online(self) -> None: ...

    @transition(field=state, source=list(WITHDRAWABLE_STATES), target=S.WITHDRAWN, conditions=[_withdrawable])
    def withdraw(self) -> None: ...


class CaseEvent(models.Model):
    """One entry of a case's ledger: who moved it from which state to which, when, with what."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="events")
    # 1, 2, 3 ... per case: with the unique constraint, two writers can never both append "the next"
    # event, so the events of a case always form one chain (from of n+1 == to of n).
    seq = models.PositiveIntegerField(_("序号"))
    transition = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # "system" for deemed acceptance, issuing and other automatic steps.
    actor_label = models.CharField(_("操作人名称"), max_length=128)
    at = models.DateTimeField(_("时间"))
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.transition}"


def material_upload_to(instance: Material, filename: str) -> str:
    # Never the client's file name on disk: a random name with the extension our sniffing chose.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"materials/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{ext}"


class Material(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="materials")
    requirement = models.ForeignKey(
        "services.MaterialRequirement", verbose_name=_("材料要求"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=16, choices=MaterialSource.choices)
    file = models.FileField(_("文件"), upload_to=material_upload_to, blank=True, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    e_license = models.ForeignKey(
        Result, verbose_name=_("电子证照"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_from = models.ForeignKey(
        "self", verbose_name=_("共享来源"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Trust grade (services.MaterialGrade): set from the source when stored, raised to "sighted"
    # when staff see the original (at the window on verify, or by video).
    grade = models.CharField(
        _("可信等级"), max_length=16, choices=MaterialGrade.choices, default=MaterialGrade.UPLOADED
    )
    # 告知承诺: the pledge the applicant signed instead of the material (its digest is sha256).
    pledge_text = models.TextField(_("承诺内容"), blank=True)
    # The applicant's consent to reuse an e-licence or a shared material (免提交).
    consent_at = models.DateTimeField(_("同意复用时间"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    # A newer material for the same requirement (after a correction notice) supersedes this one.
    superseded_at = models.DateTimeField(_("被替换时间"), null=True, blank=True)
    original_sighted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("原件核验人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    original_sighted_at = models.DateTimeField(_("原件核验时间"), null=True, blank=True)
    original_sighted_hall = models.ForeignKey(
        "halls.Hall", verbose_name=_("原件核验场所"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["case", "requirement__position", "uploaded_at"]
        indexes = [models.Index(fields=["case", "requirement"], name="material_case_req")]

    def __str__(self) -> str:
        return f"{self.requirement_id} {self.sha256[:12]}"


class MaterialView(models.Model):
    """One opening of a material's file by someone (download or watermarked preview), or a refused
    attempt: the view log of the case's audit trail (each row also has its ledger entry)."""

    class Kind(models.TextChoices):
        DOWNLOAD = "download", _("下载")
        PREVIEW = "preview", _("预览")

    class Outcome(models.TextChoices):
        SERVED = "served", _("已提供")
        TAMPERED = "tampered", _("摘要不符，已拒绝")
        MISSING = "missing", _("文件缺失，已拒绝")

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="material_views")
    material = models.ForeignKey(Material, verbose_name=_("材料"), on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查阅人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    viewer_label = models.CharField(_("查阅人名称"), max_length=128)
    viewer_role = models.CharField(_("查阅人角色"), max_length=32, blank=True)
    kind = models.CharField(_("方式"), max_length=16, choices=Kind.choices)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, default=Outcome.SERVED)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("材料查阅记录")
        verbose_name_plural = _("材料查阅记录")
        ordering = ["case", "at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="material_view_case_at")]

    def __str__(self) -> str:
        return f"{self.material_id} {self.viewer_label} {self.at:%Y-%m-%d %H:%M}"


class CorrectionNotice(models.Model):
    """一次性告知: every problem with an application, listed at once."""

    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="corrections")
    # [{"requirement": code or "", "name": ..., "reason": ...}]
    items = models.JSONField(_("补正内容"))
    from_state = models.CharField(_("告知时状态"), max_length=20)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("告知人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("告知时间"))
    resolved_at = models.DateTimeField(_("补正时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("一次性告知")
        verbose_name_plural = _("一次性告知")
        ordering = ["case", "issued_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.issued_at:%Y-%m-%d}"


class UnmaskField(models.TextChoices):
    PHONE = "phone", _("手机号")
    ID_NUMBER = "id_number", _("证件号码")


class PersonalDataAccess(models.Model):
    """One unmasking of an applicant's phone or ID number by staff: who, whose, which field, why,
    when. Staff otherwise see both masked; this log is what supervisors review and export."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(_("查看人角色"), max_length=32)
    case = models.ForeignKey(Case, verbose_name=_("办件"), on_delete=models.PROTECT, related_name="+")
    # Whose data: the applicant as the case names them (masked name, keyed ID digest for lookups).
    subject_name = models.CharField(_("数据主体"), max_length=128)
    subject_id_hash = models.CharField(_("证件号码摘要"), max_length=64, db_index=True, editable=False)
    field = models.CharField(_("字段"), max_length=16, choices=UnmaskField.choices)
    reason = models.CharField(_("事由"), max_length=255)
    # Kept for the supervisors' scope: the regions the case touches when it was viewed.
    jurisdiction_code = models.CharField(_("属地代码"), max_length=12, db_index=True)
    hall_region_code = models.CharField(_("收件场所区划"), max_length=12, blank=True, db_index=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.case_id} {self.field}"
