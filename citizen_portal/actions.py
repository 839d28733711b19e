"""Writes of the citizens' portal: publishing and retiring policy documents, visitor preferences."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizen_portal.models import PolicyDocument, PolicyStatus


def publish_policies(*, ids: list[int]) -> int:
    """Publish drafts (and re-publish retired documents); returns how many changed.

    A document without body text or issuing body is refused and nothing changes: citizens would see
    an empty page.
    """
    with transaction.atomic():
        docs = list(PolicyDocument.objects.select_for_update().filter(pk__in=ids))
        empty = [d.title for d in docs if not d.body.strip() or not d.issuing_body.strip()]
        if empty:
            raise ValidationError(_("以下文件缺少正文或发布机关，未发布：%(t)s") % {"t": "、".join(empty)})
        return (
            PolicyDocument.objects.filter(pk__in=[d.pk for d in docs])
            .exclude(status=PolicyStatus.PUBLISHED)
            .update(status=PolicyStatus.PUBLISHED, retired_at=None)
        )


def retire_policies(*, ids: list[int]) -> int:
    """Retire published documents (废止): they leave the zone's list and search; returns the count."""
    return PolicyDocument.objects.filter(pk__in=ids, status=PolicyStatus.PUBLISHED).update(
        status=PolicyStatus.RETIRED, retired_at=timezone.now()
    )
