"""HTML pages of the live boards: the call screen (叫号屏) and the window clerk's console."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie

from halls import actions, queue
from halls.models import Hall, TicketStatus


def _board_labels() -> dict[str, str]:
    """Texts board.js writes into the page, in the request's language (read via json_script)."""
    return {"live": _("● 实时"), "reconnecting": _("○ 重新连接中…")}


def _console_labels() -> dict[str, Any]:
    """Texts console.js writes into the page: ticket status names and its own messages."""
    return {
        "status": {s.value: str(s.label) for s in TicketStatus},
        "statusFormat": _("（%(status)s）"),
        "noneWaiting": _("当前没有等候的号。"),
    }


def call_screen(request: HttpRequest, code: str) -> HttpResponse:
    """Public: the screen in the waiting area. Live over /ws/halls/<code>/queue/."""
    hall = get_object_or_404(Hall, code=code, is_active=True)
    return render(
        request,
        "halls/call_screen.html",
        {
            "hall": hall,
            "state": queue.queue_state(hall.pk),
            "categories": queue.hall_categories(hall),
            "board_labels": _board_labels(),
        },
    )


@login_required
@ensure_csrf_cookie
def clerk_console(request: HttpRequest, code: str) -> HttpResponse:
    """Staff posted at the hall: call the next ticket to a window, finish, mark no-show, transfer."""
    hall = get_object_or_404(Hall, code=code, is_active=True)
    if not actions.is_posted_at_hall(request.user, hall.pk):  # type: ignore[arg-type]
        raise Http404
    windows = [w for w in hall.windows.order_by("number") if actions.can_operate_window(request.user, w)]  # type: ignore[arg-type]
    return render(
        request,
        "halls/console.html",
        {
            "hall": hall,
            "windows": windows,
            "state": queue.queue_state(hall.pk),
            "categories": queue.hall_categories(hall),
            "board_labels": _board_labels(),
            "console_labels": _console_labels(),
        },
    )
