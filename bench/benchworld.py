"""The world the in-process benches measure in (bench_ledger, bench_results, bench_workflows).

The tests' world (tests/fixtures/workflows.build_world) plus one bench item, BENCH-0001
(``world.items["bench"]``): proxy and online, no required materials — a lifecycle measures the
workflow, not file I/O; and that item's proxy lifecycle (``proxy_lifecycle``). Call after
``_bootstrap.setup_django``.
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


def proxy_lifecycle(world: Any, *, deliver: bool = True) -> Any:
    """One case of the bench item received at the Zunyi window and carried through: verified,
    transferred, accepted, reviewed and approved (its result issued), then with ``deliver`` printed
    and handed over. Returns the case as the last action left it."""
    from workflows import actions

    u = world.users
    case = world.receive(item="bench")
    case = actions.verify(case=case, actor=u["zy_clerk"], id_checked=True, originals_sighted=[])
    case = actions.transfer(case=case, actor=u["zy_clerk"])
    case = actions.accept(case=case, actor=u["yy_approver"])
    case = actions.start_review(case=case, actor=u["yy_approver"])
    case = actions.approve(case=case, actor=u["yy_approver"])
    if deliver:
        case = actions.print_result(case=case, actor=u["zy_printer"])
        case = actions.hand_over(case=case, actor=u["zy_clerk"])
    return case
