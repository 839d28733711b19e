"""好差评 (GB/T 39734-2020 / 39735-2020): ratings, their tallies, rectifications and appeals.

Reading design (1,000,000+ ratings, summaries in well under 300 ms):

* ``Rating`` carries its attribution DENORMALISED (province/city/county adcode columns, hall,
  window, staff, item, the local date it was given, the level and a ``counted`` flag), so every
  drill-down list is an indexed equality filter, never a join through halls and regions.
* Summaries never count raw ratings. Four tally tables hold per-level counts in columns c1..c5 and
  are changed in the SAME transaction as the rating (insert +1, upheld appeal -1) by
  ``ratings.tally``: per day × county (region summaries, trends, the map's choropleth), per day ×
  hall (hall rankings and hall summaries), per day × window (window rankings), and per hall all
  time (the hall API, nearest halls and the map's GeoJSON).
* ``Rectification`` repeats the rating's attribution so on-time rates and lists of bad ratings are
  plain indexed reads too (bad ratings are a small share of all ratings).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.phones import PhoneField


class Level(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# 差评 = 不满意 or 非常不满意; 好评 = the other three (GB/T 39734-2020).
BAD_LEVELS = (1, 2)
LEVELS = (1, 2, 3, 4, 5)


class RatingKind(models.TextChoices):
    CASE = "case", _("一事一评（办件）")
    VISIT = "visit", _("一次一评（窗口服务）")


class Channel(models.TextChoices):
    WINDOW_PAD = "window_pad", _("窗口评价器")
    ONLINE = "online", _("网上评价")
    SMS_LINK = "sms_link", _("短信链接评价")


# Indicators by kind (GB/T 39735): name -> label (lazy: shown in the rater's language). "overall"
# is the rating's own level.
ONLINE_INDICATORS: dict[str, str | Promise] = {
    "overall": _("总体评价"),
    "efficiency": _("办事效率"),
    "guide_accuracy": _("办事指南准确性"),
    "convenience": _("办事便捷程度"),
    "platform_usability": _("平台易用性"),
}
OFFLINE_INDICATORS: dict[str, str | Promise] = {
    "overall": _("总体评价"),
    "efficiency": _("办事效率"),
    "service_level": _("服务水平"),
    "attitude": _("服务态度"),
}


def indicators_for(kind: str) -> dict[str, str | Promise]:
    return ONLINE_INDICATORS if kind == RatingKind.CASE else OFFLINE_INDICATORS


class Rating(models.Model):
    kind = models.CharField(_("评价类型"), max_length=8, choices=RatingKind.choices)
    channel = models.CharField(_("评价渠道"), max_length=16, choices=Channel.choices)
    case = models.OneToOneField(
        "workflows.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT, related_name="rating"
    )
    ticket = models.OneToOneField(
        "halls.QueueTicket",
        verbose_name=_("排队号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rating",
    )
    # The citizen who rated, when known (online and SMS-link ratings; a pad rating when the ticket
    # was taken with an account). Never shown on public pages.
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings_given",
    )
    # Where the rectification reply goes. Kept on the rating because a pad rating has no case.
    contact_phone = PhoneField(_("联系电话"), max_length=20, blank=True)
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices)
    indicators = models.JSONField(_("分项评价"), default=dict, blank=True)
    comment = models.TextField(_("评价内容"), blank=True)

    # Attribution (denormalised on purpose, see the module docstring).
    hall = models.ForeignKey(
        "halls.Hall", verbose_name=_("服务场所"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window = models.ForeignKey(
        "halls.Window", verbose_name=_("窗口"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务人员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings_received",
    )
    item = models.ForeignKey(
        "services.Item", verbose_name=_("事项"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    province_code = models.CharField(_("省代码"), max_length=2)
    city_code = models.CharField(_("市代码"), max_length=4)
    county_code = models.CharField(_("区县代码"), max_length=6)

    rated_at = models.DateTimeField(_("评价时间"))
    rated_on = models.DateField(_("评价日期"))
    # False once an appeal against the rating was upheld: kept on record, out of the statistics.
    counted = models.BooleanField(_("计入统计"), default=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-rated_at", "-id"]
        indexes = [
            models.Index(fields=["hall", "rated_on"], name="rating_hall_day"),
            models.Index(fields=["window", "rated_on"], name="rating_window_day"),
            models.Index(fields=["county_code", "rated_on"], name="rating_county_day"),
            models.Index(fields=["city_code", "rated_on"], name="rating_city_day"),
            models.Index(fields=["rated_on", "level"], name="rating_day_level"),
            models.Index(fields=["staff", "rated_on"], name="rating_staff_day"),
            models.Index(fields=["item", "rated_on"], name="rating_item_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="rating_level_1_to_5"),
            # Exactly one subject: a case (一事一评) or a queue ticket (一次一评).
            models.CheckConstraint(
                condition=(Q(kind="case", case__isnull=False, ticket__isnull=True))
                | (Q(kind="visit", ticket__isnull=False, case__isnull=True)),
                name="rating_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.level} #{self.pk}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def subject_label(self) -> str:
        if self.case is not None:
            return self.case.number
        if self.ticket is not None:
            return f"{self.ticket.service_date:%Y%m%d}-{self.ticket.number}"
        return ""


# --- tallies (maintained by ratings.tally, never by save()) ---------------------------------------


class _Counts(models.Model):
    c1 = models.IntegerField(default=0)
    c2 = models.IntegerField(default=0)
    c3 = models.IntegerField(default=0)
    c4 = models.IntegerField(default=0)
    c5 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class RegionDayTally(_Counts):
    """Counted ratings per day, county and level: region summaries, trends, the choropleth."""

    day = models.DateField()
    province_code = models.CharField(max_length=2)
    city_code = models.CharField(max_length=4)
    county_code = models.CharField(max_length=6)

    class Meta:
        verbose_name = _("评价日统计（区域）")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["day", "county_code"], name="region_tally_unique")]
        indexes = [
            models.Index(fields=["city_code", "day"], name="region_tally_city"),
            models.Index(fields=["province_code", "day"], name="region_tally_prov"),
        ]

    def __str__(self) -> str:
        return f"{self.county_code} {self.day}"


class HallDayTally(_Counts):
    """Counted ratings per day, hall and level: hall summaries and rankings."""

    day = models.DateField()
    hall_id = models.BigIntegerField()
    province_code = models.CharField(max_length=2)
    city_code = models.CharField(max_length=4)
    county_code = models.CharField(max_length=6)

    class Meta:
        verbose_name = _("评价日统计（场所）")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["hall_id", "day"], name="hall_tally_unique")]
        indexes = [
            models.Index(fields=["county_code", "day"], name="hall_tally_county"),
            models.Index(fields=["city_code", "day"], name="hall_tally_city"),
            models.Index(fields=["day"], name="hall_tally_day"),
        ]

    def __str__(self) -> str:
        return f"hall {self.hall_id} {self.day}"


class WindowDayTally(_Counts):
    """Counted ratings per day, window and level: window rankings inside a hall."""

    day = models.DateField()
    window_id = models.BigIntegerField()
    hall_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("评价日统计（窗口）")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["window_id", "day"], name="window_tally_unique")]
        indexes = [models.Index(fields=["hall_id", "day"], name="window_tally_hall")]

    def __str__(self) -> str:
        return f"window {self.window_id} {self.day}"


class HallTally(_Counts):
    """Counted ratings per hall, all time: what the hall API and the map show."""

    hall_id = models.BigIntegerField(unique=True)

    class Meta:
        verbose_name = _("评价累计（场所）")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"hall {self.hall_id}"


# --- rectification -------------------------------------------------------------------------------


class RectState(models.TextChoices):
    OPEN = "open", _("待整改")
    RECTIFYING = "rectifying", _("整改中")
    REPLIED = "replied", _("已答复")
    CALLBACK_RECORDED = "callback_recorded", _("已回访")
    CLOSED = "closed", _("已办结")


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    UNSATISFIED = "unsatisfied", _("不满意")
    UNREACHABLE = "unreachable", _("无法联系（匿名评价）")


class EscalationLevel(models.IntegerChoices):
    HALL = 0, _("大厅")
    CITY = 1, _("市（州）")
    PROVINCE = 2, _("省")


R = RectState
# States in which the deadline still matters (nothing answered yet).
UNANSWERED_STATES = (R.OPEN, R.RECTIFYING)

TRANSITION_LABELS: dict[str, object] = {
    "start": _("开始整改"),
    "reply": _("答复评价人"),
    "record_callback": _("记录回访"),
    "close": _("办结"),
    "reopen": _("重新整改"),
}


class Rectification(ConcurrentTransitionMixin, models.Model):
    """整改 of one bad rating: open → rectifying → replied → callback_recorded → closed."""

    rating = models.OneToOneField(
        Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="rectification"
    )
    state = FSMField(_("状态"), choices=RectState.choices, default=RectState.OPEN, protected=True, db_index=True)
    # The hall supervisor posted at the rated hall when the rectification opened (may be empty:
    # the city's supervisors see it anyway through their region).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rectifications",
    )
    hall = models.ForeignKey(
        "halls.Hall", verbose_name=_("服务场所"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The owner when no hall served the applicant (an online case): the competent department. A
    # bad rating always has an owner (hall or department, see the constraint) and a named post.
    department = models.ForeignKey(
        "services.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The post answerable for the rectification, named when it opens ("<hall> 大厅监督岗",
    # "<department> 审批岗"), so the owner stays named even while nobody holds the post.
    responsible_post = models.CharField(_("责任岗位"), max_length=200, blank=True)
    province_code = models.CharField(_("省代码"), max_length=2)
    city_code = models.CharField(_("市代码"), max_length=4)
    county_code = models.CharField(_("区县代码"), max_length=6)
    rated_on = models.DateField(_("评价日期"))
    counted = models.BooleanField(_("计入统计"), default=True)

    opened_at = models.DateTimeField(_("开始时间"))
    deadline = models.DateTimeField(_("整改期限"))
    # When an unanswered rectification goes on to the province (the city had its turn).
    province_escalate_at = models.DateTimeField(_("升级至省时间"))
    escalation_level = models.PositiveSmallIntegerField(
        _("督办层级"), choices=EscalationLevel.choices, default=EscalationLevel.HALL
    )
    escalated_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True)

    measures = models.TextField(_("整改措施"), blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_on_time = models.BooleanField(_("按期答复"), null=True, blank=True)
    callback_result = models.CharField(_("回访结果"), max_length=16, choices=CallbackResult.choices, blank=True)
    callback_note = models.TextField(_("回访记录"), blank=True)
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["hall", "rated_on"], name="rect_hall_day"),
            models.Index(fields=["county_code", "rated_on"], name="rect_county_day"),
            models.Index(fields=["city_code", "rated_on"], name="rect_city_day"),
            models.Index(fields=["rated_on"], name="rect_day"),
            # The escalation sweep: unanswered ones past a threshold.
            models.Index(fields=["escalation_level", "deadline"], name="rect_escalate_city"),
            models.Index(fields=["escalation_level", "province_escalate_at"], name="rect_escalate_prov"),
            models.Index(fields=["department", "state"], name="rect_department_state"),
        ]
        constraints = [
            # Every bad rating is owned: by the hall that served, or by the competent department.
            models.CheckConstraint(
                condition=Q(hall__isnull=False) | Q(department__isnull=False), name="rectification_has_owner"
            ),
        ]

    def __str__(self) -> str:
        return str(_("整改 #%(pk)s（%(state)s）") % {"pk": self.pk, "state": self.get_state_display()})

    @property
    def owner_name(self) -> str:
        """The answerable unit: the competent department for online cases, else the hall."""
        if self.department_id is not None and self.department is not None:
            return self.department.name
        return self.hall.name if self.hall_id is not None and self.hall is not None else ""

    @property
    def is_overdue(self) -> bool:
        """Unanswered past its deadline (answered late is recorded in ``replied_on_time``)."""
        from django.utils import timezone

        return self.state in UNANSWERED_STATES and self.deadline < timezone.now()

    @transition(field=state, source=R.OPEN, target=R.RECTIFYING)
    def start(self) -> None: ...

    # Replying straight from "open" is allowed: a simple case needs no separate "started" step.
    @transition(field=state, source=[R.OPEN, R.RECTIFYING], target=R.REPLIED)
    def reply_to_rater(self) -> None: ...

    @transition(field=state, source=R.REPLIED, target=R.CALLBACK_RECORDED)
    def record_callback(self) -> None: ...

    @transition(field=state, source=R.CALLBACK_RECORDED, target=R.CLOSED)
    def close(self) -> None: ...

    # An unsatisfied callback sends the rectification back to work.
    @transition(field=state, source=R.CALLBACK_RECORDED, target=R.RECTIFYING)
    def reopen(self) -> None: ...


EVENT_LABELS: dict[str, object] = {
    **TRANSITION_LABELS,
    "open": _("生成整改"),
    "escalate_city": _("超期，升级至市（州）督办"),
    "escalate_province": _("超期，升级至省督办"),
    "appeal_upheld": _("申诉成立，不计入统计"),
}

# Public transition names (API paths) -> model method.
TRANSITION_METHODS: dict[str, str] = {
    "start": "start",
    "reply": "reply_to_rater",
    "record_callback": "record_callback",
    "close": "close",
    "reopen": "reopen",
}


class RectificationEvent(models.Model):
    """The rectification's record: who did what, when (escalations by the system too)."""

    rectification = models.ForeignKey(
        Rectification, verbose_name=_("整改"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["rectification", "at", "id"]

    def __str__(self) -> str:
        return f"{self.rectification_id} {self.kind}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind))

    @staticmethod
    def _state_label(code: str) -> str:
        return str(RectState(code).label) if code in RectState.values else code

    @property
    def from_label(self) -> str:
        return self._state_label(self.from_state)

    @property
    def to_label(self) -> str:
        return self._state_label(self.to_state)


# --- appeals ---------------------------------------------------------------------------------------


class AppealState(models.TextChoices):
    PENDING = "pending", _("待审核")
    UPHELD = "upheld", _("申诉成立")
    DISMISSED = "dismissed", _("申诉驳回")


class Appeal(models.Model):
    """Staff's appeal against a malicious rating (恶意差评申诉); decided by a supervisor."""

    rating = models.ForeignKey(Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="appeals")
    state = models.CharField(
        _("状态"), max_length=16, choices=AppealState.choices, default=AppealState.PENDING, db_index=True
    )
    reason = models.TextField(_("申诉理由"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申诉人"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("申诉时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("差评申诉")
        verbose_name_plural = _("差评申诉")
        ordering = ["-filed_at", "-id"]
        constraints = [
            # One appeal at a time per rating; a dismissed one may be followed by a new one.
            models.UniqueConstraint(
                fields=["rating"], condition=Q(state="pending"), name="one_pending_appeal_per_rating"
            ),
        ]

    def __str__(self) -> str:
        return str(_("申诉 #%(pk)s（%(state)s）") % {"pk": self.pk, "state": self.get_state_display()})


# --- window pad and invitations --------------------------------------------------------------------


class PadToken(models.Model):
    """The one-time key of a window rating pad for one served ticket (一次一评).

    Created when the clerk hands the finished visit to the citizen-facing screen; only its hash is
    stored. Rating with it needs no login and is refused to staff sessions.
    """

    ticket = models.OneToOneField(
        "halls.QueueTicket", verbose_name=_("排队号"), on_delete=models.CASCADE, related_name="pad_token"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价器令牌")
        verbose_name_plural = _("评价器令牌")

    def __str__(self) -> str:
        return f"pad {self.ticket_id}"


class Invitation(models.Model):
    """The one invitation SMS of a finished, unrated case (sent 3 days after it finished)."""

    case = models.OneToOneField(
        "workflows.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="rating_invitation"
    )
    sent_at = models.DateTimeField(_("邀请时间"))

    class Meta:
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")

    def __str__(self) -> str:
        return f"invitation {self.case_id}"
