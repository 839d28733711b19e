"""The verifier's resolver for material views (``verify_ledger --sources``): rebuilds each view's
ledger payload from its row, with the builder that made it, so an edited or deleted view log row
shows up as a mismatch."""

from __future__ import annotations

from typing import Any

from ledger import sources


def material_views(refs: list[str]) -> dict[str, dict[str, Any] | None]:
    from workflows.actions import material_view_payload
    from workflows.models import MaterialView

    wanted = {int(ref.split(":", 1)[1]): ref for ref in refs if ref.split(":", 1)[1].isdigit()}
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(refs)
    for view in MaterialView.objects.filter(pk__in=wanted).select_related("case", "material"):
        found[wanted[view.pk]] = material_view_payload(view, view.case.number, view.material.sha256)
    return found


def register_sources() -> None:
    sources.register("material_view", material_views)
