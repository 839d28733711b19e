"""python manage.py enroll_totp <username>

Give a staff account a new authenticator (TOTP) and ten recovery codes, replacing any it had. Prints
the otpauth:// URL to scan (or type) into the authenticator app and the recovery codes, once: hand
them to the person and clear the terminal.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import twofactor
from accounts.models import User


class Command(BaseCommand):
    help = "为工作人员账户绑定动态口令（身份验证器）并生成恢复码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_staff_role:
            raise CommandError(f"没有名为 {username} 的工作人员账户。")
        enrolment = twofactor.enroll(user)
        self.stdout.write(f"身份验证器地址（扫码或手工录入）：\n{enrolment.config_url}\n")
        self.stdout.write("恢复码（每个只能使用一次，请妥善保管）：")
        for code in enrolment.recovery_codes:
            self.stdout.write(f"  {code}")
