"""The citizens' portal's own data: the ten city sites (look, banner, notices, featured items) and the
policy documents of the industry zones. Items, halls and cases belong to their own apps."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Skin(models.TextChoices):
    STANDARD = "standard", _("标准")
    FESTIVE = "festive", _("民族文化")
    CONTRAST = "contrast", _("高对比度")


HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.1 §1.4.3 definition) of #rrggbb."""
    channels = []
    for i in (1, 3, 5):
        c = int(hex_colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (_luminance(hex_colour) + 0.05)


def validate_accent(value: str) -> None:
    """A site colour carries white text (header, buttons): it must reach WCAG AA 4.5:1 against white,
    or the skin would fail the accessibility check the portal promises."""
    if not HEX_RE.match(value or ""):
        raise ValidationError(_("颜色须为 #RRGGBB 格式。"))
    ratio = contrast_with_white(value)
    if ratio < 4.5:
        raise ValidationError(
            _("颜色 %(c)s 与白色文字的对比度为 %(r).2f:1，低于无障碍要求的 4.5:1，请选择更深的颜色。")
            % {"c": value, "r": ratio}
        )


class CitySite(models.Model):
    """One of Guizhou's ten city sites (nine cities/prefectures + 贵安新区). One template set serves
    all of them: a site's look is a handful of CSS variables (its colours) plus the skin."""

    key = models.SlugField(
        _("站点标识"), max_length=16, unique=True, help_text=_("路径 /sites/<标识>/，如 520300、guian")
    )
    name = models.CharField(_("站点名称"), max_length=32)
    # 贵安新区 is a national new area, not an administrative region of its own: no region.
    region = models.OneToOneField(
        "govmap.Region", verbose_name=_("行政区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hall = models.ForeignKey(
        "halls.Hall",
        verbose_name=_("政务服务中心"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Optional own host name (e.g. zunyi.gzzwfw.example): the root of that host shows this site. The
    # host must also be in ALLOWED_HOSTS (a deployment setting).
    host = models.CharField(_("独立域名"), max_length=128, blank=True)
    default_skin = models.CharField(_("默认皮肤"), max_length=16, choices=Skin.choices, default=Skin.STANDARD)
    accent = models.CharField(_("主色"), max_length=7, default="#b4232a", validators=[validate_accent])
    festive_accent = models.CharField(
        _("民族文化皮肤主色"), max_length=7, default="#7a1f5c", validators=[validate_accent]
    )
    culture_motto = models.CharField(_("民族文化皮肤标语"), max_length=64, blank=True)
    banner_title = models.CharField(_("横幅标题"), max_length=64, blank=True)
    banner_text = models.CharField(_("横幅内容"), max_length=200, blank=True)
    hotline = models.CharField(_("咨询电话"), max_length=32, default="12345")
    featured_items = models.ManyToManyField("services.Item", verbose_name=_("推荐事项"), blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("市州站点")
        verbose_name_plural = _("市州站点")
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["host"], condition=~Q(host=""), name="city_site_unique_host"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.host = (self.host or "").strip().lower()


class SiteNotice(models.Model):
    site = models.ForeignKey(CitySite, verbose_name=_("站点"), on_delete=models.CASCADE, related_name="notices")
    title = models.CharField(_("标题"), max_length=128)
    body = models.TextField(_("内容"))
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    pinned = models.BooleanField(_("置顶"), default=False)
    is_active = models.BooleanField(_("显示"), default=True)

    class Meta:
        verbose_name = _("站点公告")
        verbose_name_plural = _("站点公告")
        ordering = ["-pinned", "-published_at"]

    def __str__(self) -> str:
        return self.title


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已废止")


class PolicyDocument(models.Model):
    """A policy document of a zone's 政策服务: citizens see it once published, until retired."""

    title = models.CharField(_("标题"), max_length=200)
    doc_number = models.CharField(_("文号"), max_length=64, blank=True)
    issuing_body = models.CharField(_("发布机关"), max_length=128)
    published_on = models.DateField(_("发布日期"))
    body = models.TextField(_("正文"))
    zones = models.ManyToManyField(
        "services.IndustryZone", verbose_name=_("行业专区"), related_name="policies", blank=True
    )
    items = models.ManyToManyField("services.Item", verbose_name=_("涉及事项"), related_name="policies", blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    retired_at = models.DateTimeField(_("废止时间"), null=True, blank=True)
    # Demo rows summarise a real document in our own words; the page says so.
    is_summary = models.BooleanField(_("摘要（非全文）"), default=False)

    class Meta:
        verbose_name = _("政策文件")
        verbose_name_plural = _("政策文件")
        ordering = ["-published_on", "id"]
        indexes = [models.Index(fields=["status", "published_on"], name="policy_status_date")]

    def __str__(self) -> str:
        return self.title


class ItemGuide(models.Model):
    """The parts of an item's 办事指南 the catalog does not hold: who may apply, where, conditions."""

    item = models.OneToOneField("services.Item", verbose_name=_("事项"), on_delete=models.CASCADE, related_name="guide")
    who_may_apply = models.TextField(_("申请对象"))
    conditions = models.TextField(_("办理条件"), blank=True)
    where = models.TextField(_("办理地点"), blank=True)

    class Meta:
        verbose_name = _("办事指南")
        verbose_name_plural = _("办事指南")

    def __str__(self) -> str:
        return str(self.item)


class MaterialSample(models.Model):
    """A sample for one required material (样表/示例): what it looks like and how to fill it in."""

    requirement = models.OneToOneField(
        "services.MaterialRequirement", verbose_name=_("申请材料"), on_delete=models.CASCADE, related_name="sample"
    )
    description = models.TextField(_("示例说明"))
    file = models.FileField(_("样表文件"), upload_to="samples/", blank=True)

    class Meta:
        verbose_name = _("材料示例")
        verbose_name_plural = _("材料示例")

    def __str__(self) -> str:
        return str(self.requirement.name)


class AssistKind(models.TextChoices):
    FAMILY = "family", _("亲属代办")
    CLERK = "clerk", _("工作人员帮办")
    OTHER = "other", _("受托人代办")


class AssistedApplication(models.Model):
    """帮办代办: a case applied for on someone's behalf — by a family member (or other agent) who came
    to the window, or filled in by a clerk for an elderly or disabled applicant. The case's applicant
    stays the person the result is for; this records who did the applying. The agent's ID number is
    kept as a keyed digest and a masked form only."""

    case = models.OneToOneField(
        "workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="assistance"
    )
    kind = models.CharField(_("方式"), max_length=16, choices=AssistKind.choices)
    agent_name = models.CharField(_("代办人"), max_length=64)
    agent_id_masked = models.CharField(_("代办人证件号码（脱敏）"), max_length=32, blank=True)
    agent_id_hash = models.CharField(_("代办人证件摘要"), max_length=64, blank=True, editable=False)
    relation = models.CharField(_("与申请人关系"), max_length=32, blank=True)
    authorisation_checked = models.BooleanField(_("已核验委托书"), default=False)
    recorded_by = models.ForeignKey(
        "accounts.User", verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("帮办代办记录")
        verbose_name_plural = _("帮办代办记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.agent_name}"
