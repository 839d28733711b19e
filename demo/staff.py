"""Demo staff accounts for the Guizhou demo data (load_demo). Idempotent."""

from __future__ import annotations

import os
from functools import lru_cache

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Role, User

# One demo password for every demo account, overridable; load_demo prints it. Never used in production.
DEMO_PASSWORD = os.environ.get("TONGBAN_DEMO_PASSWORD", "Tongban-demo-2026")


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # Hashing is deliberately slow; the demo accounts share one well-known password, so hash it once.
    return make_password(DEMO_PASSWORD)


def _staff(username: str, role: str, real_name: str, **fields: object) -> tuple[User, bool]:
    return User.objects.get_or_create(
        username=username,
        defaults={"role": role, "real_name": real_name, "is_staff": True, "password": _demo_password_hash(), **fields},
    )


def load_staff() -> dict[str, int]:
    """Province/city supervisors, a clerk at the Zunyi and Guiyang halls, approvers in Guiyang."""
    from govmap.models import Region
    from halls.models import Hall, StaffPost, Window
    from services.models import Department

    created = 0
    with transaction.atomic():
        _u, c = _staff("admin", Role.ADMIN, "系统管理员", is_superuser=True)
        created += c
        for username, adcode, name in (
            ("sup-province", "520000", "省政务服务监督员"),
            ("sup-guiyang", "520100", "贵阳市监督员"),
            ("sup-zunyi", "520300", "遵义市监督员"),
        ):
            region = Region.objects.filter(adcode=adcode).first()
            if region is not None:
                _u, c = _staff(username, Role.SUPERVISOR, name, region=region)
                created += c
        # Clerks at the 通办 window of the first county hall of Zunyi (红花岗区) and Guiyang (南明区).
        for username, adcode, name in (
            ("clerk-zunyi", "520302", "遵义窗口人员"),
            ("clerk-guiyang", "520102", "贵阳窗口人员"),
        ):
            hall = Hall.objects.filter(region_id=adcode, type="comprehensive").order_by("code").first()
            if hall is None:
                continue
            window = Window.objects.filter(hall=hall, tongban_intake=True).order_by("number").first()
            user, c = _staff(username, Role.WINDOW_CLERK, name)
            created += c
            StaffPost.objects.get_or_create(user=user, hall=hall, window=window)
            issuing = Window.objects.filter(hall=hall, issuing=True).order_by("number").first()
            if issuing is not None and issuing != window:
                StaffPost.objects.get_or_create(user=user, hall=hall, window=issuing)
            hs_user, c = _staff(f"hallsup-{username.split('-')[1]}", Role.HALL_SUPERVISOR, f"{hall.name}监督员")
            created += c
            StaffPost.objects.get_or_create(user=hs_user, hall=hall, window=None)
        # Approvers at departments in Guiyang (南明区 and the city) for every department kind.
        for dept in Department.objects.filter(region_id__in=["520102", "520100", "520000"]).select_related("kind"):
            _u, c = _staff(
                f"approver-{dept.code}".lower(),
                Role.APPROVER,
                f"{dept.name}审批员",
                department=dept,
                region=dept.region,
            )
            created += c
    return {"staff_created": created}
