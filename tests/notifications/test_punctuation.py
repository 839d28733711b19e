"""Texts read right: punctuation joined once, plural-aware English, an SMS that promises only a
lookup that works without an account."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from notifications.models import OutboxMessage
from notifications.templates_sms import render
from notifications.text import join_clauses, tidy
from workflows import actions
from workflows.actions import CorrectionItem


def test_join_and_tidy():
    assert join_clauses(["缺页。", "缺签字。", ""]) == "缺页；缺签字。"
    assert join_clauses([]) == ""
    assert tidy("答复如下：已整改。。如有疑问") == "答复如下：已整改。如有疑问"
    assert tidy("1. 缺页。；2. 缺签字") == "1. 缺页；2. 缺签字"


def test_sms_never_doubles_punctuation():
    body = render(
        "case_needs_correction",
        {"case_number": "N1", "item_name": "食品经营许可", "problems": ["复印件不清晰。", "申请书：未签字。"]},
    )
    assert "1. 复印件不清晰；2. 申请书：未签字。补正后" in body
    assert "。；" not in body and "。。" not in body
    reply = render("rectification_reply", {"case_number": "N1", "reply": "已增开窗口。"})
    assert "。。" not in reply and "已增开窗口。如有疑问" in reply


def test_case_received_sms_names_the_public_lookup(wf, settings):
    settings.PUBLIC_BASE_URL = "https://zwfw.guizhou.example.gov.cn"
    wf.receive()
    body = OutboxMessage.objects.get(template="case_received").body
    assert "无需登录" in body and "证件号码" in body
    assert "https://zwfw.guizhou.example.gov.cn/query/case/" in body


def test_correction_messages_joined_once(wf, drive):
    case = drive(wf.receive(), "transferred")
    actions.request_correction(
        case=case,
        actor=wf.users["yy_approver"],
        items=[CorrectionItem(None, "缺少委托书。"), CorrectionItem("form", "缺页。")],
    )
    body = OutboxMessage.objects.get(template="case_needs_correction").body
    assert "。；" not in body and "。。" not in body
    from django.test import Client

    c = Client()
    c.force_login(wf.users["zy_clerk"])
    r = c.post(f"/workbench/cases/{case.number}/transitions/resubmit/", follow=True)
    text = r.content.decode()
    assert "缺少委托书" in text and "。；" not in text and "。。" not in text


def test_working_days_plural_in_english():
    template = Template(
        "{% load i18n %}{% blocktranslate count d=n %}{{ d }} 个工作日"
        "{% plural %}{{ d }} 个工作日{% endblocktranslate %}"
    )
    with translation.override("en"):
        assert template.render(Context({"n": 1})) == "1 working day"
        assert template.render(Context({"n": 5})) == "5 working days"
    with translation.override("zh-hans"):
        assert template.render(Context({"n": 1})) == "1 个工作日"
