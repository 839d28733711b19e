"""The "next step" panel of a case page: what the person looking at it is expected to do now, and
the checklist of what is still missing before that step can go through.

Read-only, and built from the same facts the actions check (required materials, originals to
sight, the open correction notice, blank stock), so the checklist never says "ready" where the
action would refuse — the page tells a clerk what the button order used to only imply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from workflows import actions
from workflows.models import Case, CaseState
from workflows.rules import Actor, available_transitions

S = CaseState


@dataclass
class Check:
    label: str
    done: bool


@dataclass
class NextStep:
    title: str
    transition: str = ""  # the recommended transition (its form gets the emphasis), "" = none here
    checklist: list[Check] = field(default_factory=list)
    hint: str = ""

    @property
    def ready(self) -> bool:
        return all(c.done for c in self.checklist)

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checklist if not c.done]


def _materials_checklist(case: Case) -> list[Check]:
    source = case.parent if case.parent_id and case.parent is not None else case
    have = {m.requirement_id: m for m in actions.current_materials(source)}
    rows = []
    for r in case.item.materials.all():
        if r.required:
            rows.append(Check(_("材料：%(name)s") % {"name": r.name}, r.pk in have))
    return rows


def _originals(case: Case) -> list[Check]:
    have = {m.requirement_id for m in actions.current_materials(case)}
    return [
        Check(_("核验原件：%(name)s（核验时勾选）") % {"name": r.name}, False)
        for r in case.item.materials.all()
        if r.original_needed and r.pk in have
    ]


def next_step(case: Case, user: Any) -> NextStep:
    actor = Actor(user)
    allowed = set(available_transitions(actor, case))
    state = case.state
    if state == S.RECEIVED and "verify" in allowed:
        return NextStep(
            _("核验：查验申请人身份证件和材料原件"),
            "verify",
            [
                *_materials_checklist(case),
                Check(_("申请人身份证件（核验时勾选）"), False),
                *_originals(case),
            ],
            _("材料不全或有误时，请用“一次性告知补正”一次列出全部问题。"),
        )
    if state == S.VERIFIED and "transfer" in allowed:
        target = case.authority.name if case.authority else _("各联办部门")
        return NextStep(_("流转：将材料发送至%(dept)s") % {"dept": target}, "transfer")
    if state == S.NEEDS_CORRECTION:
        notice = actions.open_notice(case)
        rows = (
            [
                Check(
                    f"{a['item']}. {a['name'] + '：' if a['name'] else ''}{a['reason']}",
                    bool(a["material"]),
                )
                for a in actions.correction_answers(case, notice)
            ]
            if notice is not None
            else []
        )
        if "resubmit" in allowed:
            return NextStep(
                _("补正：逐项处理一次性告知的内容后重新提交"),
                "resubmit",
                rows,
                _("每一项须上传新材料，或在提交时填写处理说明。"),
            )
        return NextStep(_("等待申请人补正"), "", rows)
    if state in (S.SUBMITTED, S.TRANSFERRED) and "accept" in allowed:
        return NextStep(
            _("受理：审查材料是否齐全、符合法定形式"),
            "accept",
            _materials_checklist(case),
            _("受理期限 %(at)s；材料不全请一次性告知补正，不属于受理范围的不予受理。") % {"at": _at(case.accept_by)},
        )
    if state == S.ACCEPTED and "start_review" in allowed:
        return NextStep(_("开始审查"), "start_review")
    if state == S.UNDER_REVIEW and "approve" in allowed:
        return NextStep(
            _("作出决定：准予或不予批准（须说明理由和法律依据）"),
            "approve",
            hint=_("办结期限 %(at)s；需听证、检验、专家评审的，进入特别程序（不计时）。") % {"at": _at(case.decide_by)},
        )
    if state == S.SUSPENDED and "resume" in allowed:
        return NextStep(_("特别程序结束后恢复审查"), "resume")
    if state == S.PRINT_QUEUED and "print" in allowed:
        return NextStep(
            _("打证：打开结果文书 PDF 打印，登记所用空白证书流水号"),
            "print",
            [Check(_("结果文书已生成"), case.results.filter(revoked_at__isnull=True).exists())],
        )
    if state == S.READY_FOR_PICKUP and "hand_over" in allowed:
        return NextStep(
            _("交付：核验领取人身份证件后交付"),
            "hand_over",
            hint=_("他人代领的，须登记代领人姓名、证件号码，并核验申请人的授权委托书原件。"),
        )
    if state == S.ISSUED and "mail" in allowed:
        return NextStep(_("寄出：登记邮件单号"), "mail")
    if state in (S.DELIVERED, S.REJECTED, S.DENIED, S.WITHDRAWN):
        return NextStep(_("已办结，无需操作"))
    if allowed:
        return NextStep(_("可执行的操作见下方"), sorted(allowed)[0])
    return NextStep(_("当前由其他人员办理：%(state)s") % {"state": CaseState(state).label})


def _at(value: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"
