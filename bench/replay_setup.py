"""The replay's staff, in the served database (run by bench/stack.prepare, its own process).

    DATABASE_URL=... .venv/bin/python bench/replay_setup.py --halls 20 --seed 14

Operators create staff accounts with `manage.py create_staff`; for hundreds of accounts this does
the same in one process: a window clerk posted at every window of each of HALLS comprehensive halls
(seeded choice across the cities), one approver per department, a province supervisor — all with the
password TONGBAN_DEMO_PASSWORD. Idempotent. Prints the world as one JSON line: the halls with their
window ids and clerks, the approvers by department, the supervisor, and every one's API token (an
operator hands staff their tokens; logging in with the password — PBKDF2, ~0.5 s of CPU — is what a
clerk does once a shift, and the replay measures it in its own small stream).
Everything else (items, materials, modes, hall coordinates) the replay reads over the public API.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--halls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from accounts.models import Role, User
    from govmap.models import Region
    from halls.models import Hall, StaffPost, Window
    from services.models import Department

    password = make_password(os.environ.get("TONGBAN_DEMO_PASSWORD", "Tongban-demo-2026"))
    rng = random.Random(args.seed)
    candidates = list(
        Hall.objects.filter(type="comprehensive", is_active=True, windows__tongban_intake=True)
        .filter(windows__issuing=True)
        .distinct()
        .order_by("code")
        .values_list("code", flat=True)
    )
    chosen = sorted(rng.sample(candidates, min(args.halls, len(candidates))))
    world: dict[str, object] = {"halls": [], "approvers": {}, "supervisor": "rp-sup-province", "tokens": {}}
    tokens: dict[str, str] = world["tokens"]  # type: ignore[assignment]
    with transaction.atomic():
        for code in chosen:
            hall = Hall.objects.get(code=code)
            username = f"rp-clerk-{code}".lower()
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"role": Role.WINDOW_CLERK, "real_name": f"{hall.name}回放窗口", "is_staff": True},
            )
            user.password = password
            user.save(update_fields=["password"])
            tokens[username] = Token.objects.get_or_create(user=user)[0].key
            windows = list(Window.objects.filter(hall=hall).order_by("number"))
            for w in windows:
                StaffPost.objects.get_or_create(user=user, hall=hall, window=w)
            # The colleague of the next shift: the replay's login stream signs in as them, so the
            # key rotation of a login (issue 11) never revokes a token another stream is using.
            shift, _ = User.objects.get_or_create(
                username=f"rp-shift-{code}".lower(),
                defaults={"role": Role.WINDOW_CLERK, "real_name": f"{hall.name}回放换班", "is_staff": True},
            )
            shift.password = password
            shift.save(update_fields=["password"])
            for w in windows:
                StaffPost.objects.get_or_create(user=shift, hall=hall, window=w)
            world["halls"].append(  # type: ignore[attr-defined]
                {
                    "code": code,
                    "region": hall.region_id,
                    "clerk": username,
                    "shift_clerk": shift.username,
                    "windows": [w.pk for w in windows if w.general_intake or w.tongban_intake],
                    "lat": hall.lat,
                    "lon": hall.lon,
                }
            )
        for dept in Department.objects.select_related("region"):
            username = f"rp-appr-{dept.code}".lower()
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": Role.APPROVER,
                    "real_name": f"{dept.name}回放审批",
                    "is_staff": True,
                    "department": dept,
                    "region": dept.region,
                },
            )
            user.password = password
            user.save(update_fields=["password"])
            tokens[username] = Token.objects.get_or_create(user=user)[0].key
            world["approvers"][dept.code] = username  # type: ignore[index]
        sup, _ = User.objects.get_or_create(
            username="rp-sup-province",
            defaults={
                "role": Role.SUPERVISOR,
                "real_name": "回放省级监督",
                "is_staff": True,
                "region": Region.objects.get(adcode="520000"),
            },
        )
        sup.password = password
        sup.save(update_fields=["password"])
        tokens[sup.username] = Token.objects.get_or_create(user=sup)[0].key
    print(json.dumps(world, ensure_ascii=False))


if __name__ == "__main__":
    main()
