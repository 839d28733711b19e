"""The world the in-process benches measure in (bench_ledger, bench_results, bench_workflows).

The tests' world (tests/fixtures/workflows.build_world) plus one bench item, BENCH-0001
(``world.items["bench"]``): proxy and online, no required materials — a lifecycle measures the
workflow, not file I/O. Call after ``_bootstrap.setup_django``.
"""

from __future__ import annotations

from typing import Any


def bench_world() -> Any:
    from services.models import Item
    from tests.fixtures.workflows import build_world

    world = build_world()
    proxy = world.items["proxy"]
    world.items["bench"] = Item.objects.create(
        code="BENCH-0001",
        name="基准测试事项",
        item_type="licensing",
        department_kind=proxy.department_kind,
        handling_level="county",
        proxy=True,
        online=True,
        legal_days=20,
        committed_days=10,
        result_type="licence",
        result_name="基准证",
    )
    return world
