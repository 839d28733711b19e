"""The result record of a case (证照/证明/批文): what ``issue`` creates.

Rendering the document to PDF, signing its QR payload and revoking it belong to the results
module that builds on this record; it handles ``workflows.extensions.result_issued`` (raised after
the issuing transaction commits) so this app never has to know how results are rendered.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.protect import mask_id_number, reveal
from services.models import ResultType


class Result(models.Model):
    # A random public id: the verify URL and QR code must not let anyone enumerate results.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("workflows.Case", verbose_name=_("办件"), on_delete=models.PROTECT, related_name="results")
    number = models.CharField(_("证照编号"), max_length=64, unique=True)
    result_type = models.CharField(_("结果类型"), max_length=32, choices=ResultType.choices)
    title = models.CharField(_("结果名称"), max_length=128)
    # The item code is the e-licence type (电子证照类型) a later case's material can reuse.
    license_type = models.CharField(_("证照类型"), max_length=64, db_index=True)
    holder_name = models.CharField(_("持证人"), max_length=128)
    holder_id_protected = models.TextField(_("持证人证件号码（加密）"), blank=True, editable=False)
    holder_id_hash = models.CharField(_("持证人证件号码摘要"), max_length=64, blank=True, db_index=True)
    issuing_department = models.ForeignKey(
        "services.Department", verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="results"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("签发时间"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("办理结果")
        verbose_name_plural = _("办理结果")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"

    @property
    def holder_id_masked(self) -> str:
        return mask_id_number(reveal(self.holder_id_protected)) if self.holder_id_protected else ""

    @property
    def verify_path(self) -> str:
        # The public verification page belongs to the licences app (above this one); the URL shape
        # is fixed by API.md, so the fallback is the same path when that app is not installed.
        try:
            return reverse("licences:verify", args=[self.pk])
        except NoReverseMatch:
            return f"/verify/{self.pk}/"


# The case's result rows as the request's own action already holds them (``issue`` wrote them,
# ``print`` read them): the response then shows them without reading them again. Only ``issue``
# creates result rows (once per case: the numbers are unique) and nothing changes what a response
# shows of them (a revocation keeps the row), so what the action holds stays what is stored; a
# rolled-back transition forgets it (workflows.actions.engine._reload).
_HELD = "_held_results"


def hold_results(case: models.Model, rows: list[Result]) -> None:
    """``rows`` are ALL the result rows of ``case`` (issuing_department loaded)."""
    case.__dict__[_HELD] = sorted(rows, key=lambda r: r.number)


def held_results(case: models.Model) -> list[Result] | None:
    """All the result rows of ``case`` ordered by number, when the request's action holds them."""
    return case.__dict__.get(_HELD)


def forget_results(case: models.Model) -> None:
    case.__dict__.pop(_HELD, None)
