"""The catalog of government service items (事项), departments and required materials."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class HandlingLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")


class Mode(models.TextChoices):
    ONLINE = "online", _("全程网办")
    PROXY = "proxy", _("异地代收代办")
    JOINT = "joint", _("多地联办")


class MaterialGrade(models.TextChoices):
    """How far a material can be trusted (国办函〔2016〕108号: 电子证照、核验原件、申请人提交、告知承诺).

    Ordered by ``GRADE_RANK``: a requirement's minimum grade is met by that grade or any above it."""

    ISSUED = "issued", _("权威签发（电子证照、已办结果）")
    SIGHTED = "sighted", _("工作人员核验原件并封存")
    UPLOADED = "uploaded", _("申请人提交（未核验原件）")
    PLEDGE = "pledge", _("告知承诺（申请人书面承诺）")


GRADE_RANK: dict[str, int] = {
    MaterialGrade.PLEDGE: 1,
    MaterialGrade.UPLOADED: 2,
    MaterialGrade.SIGHTED: 3,
    MaterialGrade.ISSUED: 4,
}


def grade_meets(grade: str, minimum: str) -> bool:
    """True when a material of ``grade`` satisfies a requirement asking for ``minimum`` (empty: any)."""
    return not minimum or GRADE_RANK.get(grade, 0) >= GRADE_RANK.get(minimum, 99)


class ItemType(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    REGISTRATION = "registration", _("行政登记")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    OTHER = "other", _("其他行政权力")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("许可证")
    CERTIFICATE = "certificate", _("证书/证明")
    APPROVAL_NOTICE = "approval_notice", _("批准通知书")


class DepartmentKind(models.Model):
    code = models.CharField(_("代码"), max_length=32, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    # How a department of this kind is called at each level: {"province": "{province}公安厅",
    # "city": "{city}公安局", "county": "{county}公安局", "district": "{city}公安局{county_short}分局"}
    # (see services/data/README.md); a missing level falls back to "<region name><kind name>".
    name_patterns = models.JSONField(_("部门名称规则"), default=dict, blank=True)

    class Meta:
        verbose_name = _("部门类别")
        verbose_name_plural = _("部门类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    kind = models.ForeignKey(
        DepartmentKind, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="departments"
    )
    region = models.ForeignKey(
        "govmap.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="departments"
    )

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["kind", "region"], name="one_department_per_kind_and_region")]

    def __str__(self) -> str:
        return self.name


class IndustryZone(models.Model):
    """A theme of the citizens' portal (e.g. 开办企业, 不动产, 社保医保) that items are tagged with."""

    code = models.CharField(_("代码"), max_length=32, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)

    class Meta:
        verbose_name = _("行业专区")
        verbose_name_plural = _("行业专区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    code = models.CharField(_("事项编码"), max_length=64, unique=True)
    name = models.CharField(_("事项名称"), max_length=200, db_index=True)
    item_type = models.CharField(_("事项类型"), max_length=32, choices=ItemType.choices)
    department_kind = models.ForeignKey(
        DepartmentKind, verbose_name=_("实施部门类别"), on_delete=models.PROTECT, related_name="items"
    )
    handling_level = models.CharField(_("办理层级"), max_length=16, choices=HandlingLevel.choices)
    online = models.BooleanField(_("全程网办"), default=False)
    proxy = models.BooleanField(_("异地代收代办"), default=False)
    joint = models.BooleanField(_("多地联办"), default=False)
    legal_days = models.PositiveIntegerField(_("法定时限（工作日）"), validators=[MinValueValidator(1)])
    committed_days = models.PositiveIntegerField(_("承诺时限（工作日）"), validators=[MinValueValidator(1)])
    fee = models.DecimalField(_("收费（元）"), max_digits=10, decimal_places=2, default=0)
    visits_required = models.PositiveSmallIntegerField(_("到现场次数"), default=0)
    result_type = models.CharField(_("结果类型"), max_length=32, choices=ResultType.choices)
    result_name = models.CharField(_("结果名称"), max_length=128, blank=True)
    # 行政许可法 第三十二条: an application not answered within 5 working days is deemed accepted;
    # some items opt out.
    deemed_acceptance = models.BooleanField(_("逾期视为受理"), default=True)
    zones = models.ManyToManyField(IndustryZone, verbose_name=_("行业专区"), blank=True, related_name="items")
    # Other department kinds that decide a part of a joint (多地联办 / "一件事") item; each gets a sub-case
    # at the item's handling level for the applicant's jurisdiction. The lead kind is department_kind.
    co_department_kinds = models.ManyToManyField(
        DepartmentKind, verbose_name=_("联办部门类别"), blank=True, related_name="co_items"
    )
    # Words citizens search with that the official name lacks (e.g. 营业执照 for 企业设立登记).
    keywords = models.CharField(_("检索关键词"), max_length=200, blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed_days__lte=F("legal_days")),
                name="committed_within_legal",
                violation_error_message=_("承诺时限不能超过法定时限"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def modes(self) -> list[str]:
        return [m for m, on in ((Mode.ONLINE, self.online), (Mode.PROXY, self.proxy), (Mode.JOINT, self.joint)) if on]


class MaterialRequirement(models.Model):
    item = models.ForeignKey(Item, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="materials")
    code = models.CharField(_("材料编码"), max_length=64)
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必要"), default=True)
    original_needed = models.BooleanField(_("需核验原件"), default=False)
    # The e-licence type (电子证照类型) that waives this material when the applicant holds one.
    e_license_type = models.CharField(_("可免提交的电子证照类型"), max_length=64, blank=True)
    # The lowest trust grade a material for this requirement may have when the case is verified
    # (empty: any). E.g. "sighted": an applicant's scan alone is not enough, a clerk must see the original.
    min_grade = models.CharField(
        _("最低材料可信等级"), max_length=16, choices=MaterialGrade.choices, blank=True, default=""
    )
    # 告知承诺制: the applicant may replace this material by a signed pledge.
    pledge_allowed = models.BooleanField(_("可告知承诺"), default=False)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="material_code_unique_per_item")]

    def __str__(self) -> str:
        return self.name
