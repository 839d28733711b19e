"""Extension points a higher app fills in (ARCHITECTURE.md: a lower app never imports a higher one).

`licences` (results, the e-licence library, blank stock) registers here in its AppConfig.ready();
without it the workflow's own behaviour applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User
    from halls.models import Window
    from workflows.models import Case, Material
    from workflows.results import Result


class MaterialReuse(Protocol):
    def use_e_licence(
        self, *, case: Case, requirement: str, value: Any, actor: User, consent: bool | None
    ) -> Material: ...

    def use_shared_material(
        self, *, case: Case, requirement: str, value: Any, actor: User, consent: bool | None
    ) -> Material: ...


class PrintStock(Protocol):
    def allocate(self, *, result: Result, actor: User, window: Window | None, serial: str | None = None) -> str | None:
        """The pre-printed blank-stock serial used for `result` (``serial``: the sheet the clerk
        fed in, else the hall's next one), or None for plain paper."""
        ...

    def needs_serial(self, *, result: Result) -> bool:
        """Whether printing ``result`` at its delivery hall takes a numbered blank sheet."""
        ...


_reuse: MaterialReuse | None = None
_stock: PrintStock | None = None


def register_material_reuse(handler: MaterialReuse) -> None:
    global _reuse
    _reuse = handler


def register_print_stock(handler: PrintStock) -> None:
    global _stock
    _stock = handler


def material_reuse() -> MaterialReuse | None:
    return _reuse


def print_stock() -> PrintStock | None:
    return _stock


# A panel a higher app adds to the case page (e.g. remote video verification): called with the
# request and the case, returns rendered HTML or "" when it has nothing to show this user.
CasePanel = Callable[["HttpRequest", "Case"], str]
_case_panels: list[CasePanel] = []


def register_case_panel(panel: CasePanel) -> None:
    if panel not in _case_panels:
        _case_panels.append(panel)


def case_panels() -> list[CasePanel]:
    return list(_case_panels)
