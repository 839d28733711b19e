"""The notifications app's extension point (core.extensions; catalogue: docs/EXTENSIONS.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.extensions import KEYED, ExtensionPoint

if TYPE_CHECKING:
    from notifications.templates_sms import SmsTemplate

sms_templates: ExtensionPoint[SmsTemplate] = ExtensionPoint(
    "notifications.sms_templates",
    "Keyed by template name: the texts `enqueue_sms(template=...)` may send. The platform's own "
    "are registered by notifications.templates_sms; an app adds its own in ready(). A name "
    "means one text: registering another text under it is refused.",
    kind=KEYED,
    unique_keys=True,
)
