"""python manage.py create_staff <username> --role ... [--hall] [--window] [--department] [--region] --password-stdin"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role
from halls import staff


class Command(BaseCommand):
    help = "创建工作人员账号（窗口人员、审批人员、大厅监督、监督人员、管理员）及其岗位或管辖范围。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.CITIZEN])
        parser.add_argument("--hall", help="服务场所编码（窗口人员、大厅监督必填）")
        parser.add_argument("--window", help="窗口号（可选，需同时指定 --hall）")
        parser.add_argument("--department", help="部门编码（审批人员必填）")
        parser.add_argument("--region", help="行政区划代码（监督人员必填；管理员可选，留空为全省）")
        parser.add_argument("--real-name", default="", help="姓名")
        parser.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（必需）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["password_stdin"]:
            raise CommandError("请使用 --password-stdin 从标准输入提供密码（不要把密码写在命令行上）。")
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("标准输入中没有读到密码。")
        try:
            user = staff.create_staff(
                username=options["username"],
                role=options["role"],
                password=password,
                hall=options["hall"],
                window=options["window"],
                department=options["department"],
                region=options["region"],
                real_name=options["real_name"],
            )
        except ValidationError as exc:
            lines = [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
            raise CommandError("未创建账号：\n  " + "\n  ".join(lines)) from None
        self.stdout.write(self.style.SUCCESS(f"已创建 {user.username}（{user.get_role_display()}）"))
