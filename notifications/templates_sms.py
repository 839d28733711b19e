"""The registry of SMS templates (Chinese), keyed by name.

Every outgoing text is rendered here, at enqueue time, from a template and a context. A template
names the variables it needs; rendering with one missing raises ValueError naming it, so a caller's
mistake fails inside the caller's transaction instead of sending a broken text later. The signature
(【贵州政务服务】) comes from settings.SMS_SENDER, as carriers require one registered signature.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from notifications import conf
from notifications.extensions import sms_templates
from notifications.text import clause, tidy

REDACTED = "******"


@dataclass(frozen=True)
class SmsTemplate:
    name: str
    description: str
    text: str
    # Variables a caller may leave out, with the value used then.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # Variables that must not stay readable once the message is sent (one-time codes).
    sensitive: frozenset[str] = frozenset()

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the text uses, in order of first use."""
        names: list[str] = []
        for _literal, name, _spec, _conv in string.Formatter().parse(self.text):
            if name is not None and name not in names:
                names.append(name)
        return tuple(names)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(v for v in self.variables if v not in self.defaults)

    def render(self, context: Mapping[str, Any]) -> str:
        missing = [v for v in self.required if _blank(context.get(v))]
        if missing:
            raise ValueError(f"短信模板 {self.name!r} 缺少变量：{', '.join(missing)}")
        values = {v: _as_text(context[v] if v in context else self.defaults[v]) for v in self.variables}
        return f"【{conf.sender()}】" + tidy(self.text.format_map(values))

    def redact(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The context with its sensitive values masked (kept once the message has gone out)."""
        return {k: (REDACTED if k in self.sensitive else v) for k, v in context.items()}


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


def _as_text(value: Any) -> str:
    # Lists read best numbered in one line: "1. 缺身份证复印件；2. 申请表未签字".
    if isinstance(value, list | tuple):
        return "；".join(f"{i}. {clause(item)}" for i, item in enumerate(value, start=1))
    return str(value)


def register(template: SmsTemplate) -> SmsTemplate:
    """Register ``template`` under its name (``notifications.extensions.sms_templates``). An equal
    template again is a no-op; another text under a taken name is refused."""
    try:
        return sms_templates.register(template, key=template.name)
    except ValueError:
        raise ValueError(f"短信模板 {template.name!r} 已注册") from None


def get_template(name: str) -> SmsTemplate:
    template = sms_templates.get(name)
    if template is None:
        raise ValueError(f"未知的短信模板：{name!r}")
    return template


def all_templates() -> Iterable[SmsTemplate]:
    return sms_templates.all()


def render(name: str, context: Mapping[str, Any]) -> str:
    """Render template `name`; ValueError for an unknown template or a missing variable."""
    return get_template(name).render(context)


register(
    SmsTemplate(
        "otp_code",
        "登录验证码",
        "您的验证码为{code}，{minutes}分钟内有效，请勿泄露。",
        sensitive=frozenset({"code"}),
    )
)
register(
    SmsTemplate(
        "case_received",
        "办件已收件",
        # The lookup needs no login: case number + the applicant's ID number (citizen_portal query/case/).
        "您申请的“{item_name}”已收件，办件号{case_number}。无需登录，凭办件号和申请人证件号码即可在{lookup}查询办理进度。",
        defaults={"lookup": "贵州政务服务网“办件查询”"},
    )
)
register(
    SmsTemplate(
        "case_needs_correction",
        "办件需补正（一次性告知）",
        "您的办件{case_number}（{item_name}）需补正，请一次性补齐以下内容：{problems}。补正后将继续办理。",
    )
)
register(
    SmsTemplate(
        "case_accepted",
        "办件已受理",
        "您的办件{case_number}（{item_name}）已受理，承诺于{decide_by}前办结。",
    )
)
register(
    SmsTemplate(
        "case_decided",
        "办件已办结（审批结果）",
        "您的办件{case_number}（{item_name}）已作出决定：{decision}。",
    )
)
register(
    SmsTemplate(
        "case_ready_for_pickup",
        "办理结果待领取",
        "您的办件{case_number}（{item_name}）办理结果已在{hall_name}{window}号窗口打印，"
        "请携带本人有效身份证件前往领取。",
    )
)
register(
    SmsTemplate(
        "case_mailed",
        "办理结果已寄出",
        "您的办件{case_number}（{item_name}）办理结果已寄出，邮件号{tracking_number}，请注意查收。",
    )
)
register(
    SmsTemplate(
        "appointment_reminder",
        "预约办事提醒（前一天）",
        "您已预约{date} {start}-{end}在{hall_name}办理{item_name}，请携带有效身份证件提前到场签到；"
        "如不能前往，请登录贵州政务服务网取消预约。",
        defaults={"item_name": "政务服务事项"},
    )
)
register(
    SmsTemplate(
        "queue_near",
        "排队即将叫号",
        "您在{hall_name}的排队号{ticket_number}前面还有{ahead}位，请到等候区留意叫号。",
        defaults={"ahead": 3},
    )
)
register(
    SmsTemplate(
        "rating_invitation",
        "好差评邀请",
        "您的办件{case_number}（{item_name}）已办结，诚邀您对本次服务作出评价（好差评）：{link}",
        defaults={"link": "请在贵州政务服务网“我的办件”中评价。"},
    )
)
register(
    SmsTemplate(
        "rectification_reply",
        "差评整改答复",
        "关于您对办件{case_number}的评价，整改情况答复如下：{reply}。如有疑问请拨打12345政务服务便民热线。",
    )
)
register(
    SmsTemplate(
        "case_overdue",
        "办件超期提醒（工作人员）",
        "办件{case_number}（{item_name}）已超过承诺时限{days_over}个工作日，请尽快处理。",
    )
)
