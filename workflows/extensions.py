"""The workflow's extension points (core.extensions; catalogue: docs/EXTENSIONS.md).

Higher apps register in their AppConfig.ready(): ``licences`` (e-licence reuse, blank stock, the
rendering of issued results, filing delivered results), ``remote`` (a panel on the case page).
Without them the workflow's own behaviour applies: no reuse, plain paper, no panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from core.extensions import SINGLE, Event, ExtensionPoint

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

    def result_annotations(self, *, hall_id: int | None) -> dict[str, Any]:
        """Annotations for the case's results as the print step reads them (in its transaction):
        what ``allocate`` asks of the hall's stock, answered in that read instead of a query of
        its own (e.g. whether the hall keeps blank stock of each result's type)."""
        ...

    def needs_serial(self, *, result: Result) -> bool:
        """Whether printing ``result`` at its delivery hall takes a numbered blank sheet."""
        ...


# A panel a higher app adds to the case page: called with the request and the case, returns
# rendered HTML or "" when it has nothing to show this user.
CasePanel = Callable[["HttpRequest", "Case"], str]

material_reuse: ExtensionPoint[MaterialReuse] = ExtensionPoint(
    "workflows.material_reuse",
    "Fills a material from the applicant's e-licence library or another case's shared material "
    "(the API's `e_licence` / `shared_material` sources). Without it those sources are refused.",
    kind=SINGLE,
)
print_stock: ExtensionPoint[PrintStock] = ExtensionPoint(
    "workflows.print_stock",
    "Numbered pre-printed blank stock for printing a result at the delivery hall. Without it "
    "results print on plain paper.",
    kind=SINGLE,
)
case_panels: ExtensionPoint[CasePanel] = ExtensionPoint(
    "workflows.case_panels",
    'HTML panels on the workbench case page, each `panel(request, case) -> str` ("" to show nothing).',
)
result_issued = Event(
    "workflows.result_issued",
    "`handler(result=Result)` after the transaction that issued the result committed (render and sign its PDF).",
)
case_delivered = Event(
    "workflows.case_delivered",
    "`handler(case_id=int)` after the transaction that moved a case to `delivered` committed "
    "(file its results into the holder's e-licence library).",
)
