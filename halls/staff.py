"""Staff accounts with their posts: the user (accounts) plus where the user works (halls).

halls sits above accounts, so creating a clerk *at a hall* lives here, not in accounts.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from govmap.models import Region
from halls.models import Hall, StaffPost, Window
from services.models import Department


def create_staff(
    *,
    username: str,
    role: str,
    password: str,
    hall: str | None = None,
    window: str | None = None,
    department: str | None = None,
    region: str | None = None,
    real_name: str = "",
) -> User:
    """Create a staff account with its jurisdiction (post, department or region) in one transaction."""
    errors: dict[str, list[str]] = {}
    staff_roles = [r.value for r in Role if r != Role.CITIZEN]
    if role not in staff_roles:
        raise ValidationError({"role": [_("角色必须是以下之一：%s") % ", ".join(staff_roles)]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("用户名 %s 已存在。") % username]})
    hall_obj = window_obj = dept_obj = region_obj = None
    if hall:
        hall_obj = Hall.objects.filter(code=hall).first()
        if hall_obj is None:
            errors["hall"] = [_("找不到编码为 %s 的服务场所。") % hall]
    if window:
        if hall_obj is None:
            errors.setdefault("window", []).append(_("指定窗口时必须同时指定 --hall。"))
        else:
            window_obj = Window.objects.filter(hall=hall_obj, number=window).first()
            if window_obj is None:
                errors["window"] = [_("%(hall)s 没有 %(number)s 号窗口。") % {"hall": hall_obj.name, "number": window}]
    if department:
        dept_obj = Department.objects.filter(code=department).first()
        if dept_obj is None:
            errors["department"] = [_("找不到编码为 %s 的部门。") % department]
    if region:
        region_obj = Region.objects.filter(adcode=region).first()
        if region_obj is None:
            errors["region"] = [_("找不到行政区划代码 %s。") % region]
    if role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR) and not hall:
        errors.setdefault("hall", []).append(_("窗口人员和大厅监督人员必须指定 --hall。"))
    if role == Role.APPROVER and not department:
        errors.setdefault("department", []).append(_("审批人员必须指定 --department。"))
    if role == Role.SUPERVISOR and not region:
        errors.setdefault("region", []).append(_("监督人员必须指定 --region。"))
    candidate = User(username=username, role=role)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            real_name=real_name,
            department=dept_obj,
            region=region_obj or (dept_obj.region if dept_obj else None),
            is_staff=True,  # every staff role may open the admin for its own models' read views
            is_superuser=(role == Role.ADMIN and region_obj is None),
        )
        if hall_obj is not None:
            StaffPost.objects.create(user=user, hall=hall_obj, window=window_obj)
    return user
