"""The accounts app's extension points (core.extensions; catalogue: docs/EXTENSIONS.md).

accounts sits below every app that holds citizens' records, so it asks them through these points
(registered in their AppConfig.ready()) instead of importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.extensions import SINGLE, Event, ExtensionPoint

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.realname import Verdict

# (phone in E.164, id_number_hash) → what an app's records say about this phone for this ID number.
RecordSource = Callable[[str, str], "Verdict"]

identity_record_sources: ExtensionPoint[RecordSource] = ExtensionPoint(
    "accounts.identity_record_sources",
    "`source(phone, id_hash) -> Verdict`: evidence from an app's own records that the phone's "
    "holder is that ID number's person (workflows: a clerk checked the ID card and recorded the "
    "phone). Asked when the national real-name service does not know.",
)
identity_changed = Event(
    "accounts.identity_changed",
    "`handler(user=User)`, sent inside the saving transaction when a user's real-name fields "
    "(ID number, phone, verification) are saved: first SMS login, binding at a window, an admin "
    "edit. workflows hands the cases received for that person at a window to the account.",
)
on_duty: ExtensionPoint[Callable[[User], bool]] = ExtensionPoint(
    "accounts.on_duty",
    "`on_duty(user) -> bool`: the staff member holds an active post (staff posts are halls' data; "
    "halls registers it). Without it nobody is on duty, so window-only acts are refused.",
    kind=SINGLE,
)
