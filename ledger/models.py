"""The tamper-evident ledger: per-subject hash chains, sealed into signed RFC 6962 Merkle batches.

* ``Entry`` — one appended fact. Entries of one subject (one case) form a hash chain: ``seq`` 1, 2,
  3 ... and ``prev_hash`` = the previous entry's ``entry_hash``. Appending locks only that subject's
  ``SubjectHead`` row, so writers of different cases never wait for each other.
* ``Batch`` — the batcher (a Celery beat task) takes every entry not yet sealed, in id order, makes
  them the leaves of a Merkle tree, and stores the root in a statement signed with the province key.
  Each statement names the hash of the previous statement, so batches form a chain too: removing,
  reordering or editing anything sealed changes a root that no one can re-sign.

Rows are never updated after sealing (only ``batch``/``leaf_index`` are set, once, by the batcher)
and never deleted; ``verify_ledger`` recomputes all of it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CASE_EVENT = "case_event", _("办件记录")
    MATERIAL_DIGEST = "material_digest", _("材料摘要")
    RESULT_DIGEST = "result_digest", _("结果文书摘要")
    RESULT_REVOKED = "result_revoked", _("结果撤销")
    CONSENT = "consent", _("免提交授权")
    OTHER = "other", _("其他")


class SubjectHead(models.Model):
    """The tip of one subject's chain. The only row an append locks (per case, never global)."""

    subject = models.CharField(_("主体"), max_length=96, primary_key=True)
    seq = models.PositiveIntegerField(_("最新序号"), default=0)
    head_hash = models.CharField(_("最新摘要"), max_length=64)
    # The hash before the tip: lets PostgreSQL move the head and hash the new entry in ONE upsert
    # (SET expressions see the old row), returning both the new entry's prev_hash and its hash.
    prev_hash = models.CharField(_("前一摘要"), max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("链头")
        verbose_name_plural = _("链头")

    def __str__(self) -> str:
        return f"{self.subject}#{self.seq}"


class Batch(models.Model):
    """A signed Merkle root over a set of entries (RFC 6962 leaf/node hashing)."""

    seq = models.PositiveIntegerField(_("批次序号"), unique=True)
    size = models.PositiveIntegerField(_("条目数"))
    first_entry_id = models.BigIntegerField(_("首条目"))
    last_entry_id = models.BigIntegerField(_("末条目"))
    root = models.CharField(_("默克尔根"), max_length=64)
    # Hash of the previous batch's statement: the batches' own chain.
    prev_hash = models.CharField(_("上一批次声明摘要"), max_length=64)
    # The exact signed bytes (canonical JSON), kept verbatim so the signature can be rechecked.
    statement = models.TextField(_("签名声明"))
    statement_hash = models.CharField(_("声明摘要"), max_length=64)
    kid = models.CharField(_("密钥标识"), max_length=32)
    signature = models.CharField(_("签名"), max_length=128)
    created_at = models.DateTimeField(_("封存时间"))

    class Meta:
        verbose_name = _("签名批次")
        verbose_name_plural = _("签名批次")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} ({self.size}) {self.root[:12]}"


class Entry(models.Model):
    id = models.BigAutoField(primary_key=True)
    subject = models.CharField(_("主体"), max_length=96)
    seq = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    # What the entry records ("case_event:123"): lets a backfill stay idempotent and lets the
    # verifier compare the ledger with the source tables.
    ref = models.CharField(_("来源"), max_length=96, null=True, blank=True)
    payload = models.TextField(_("内容（规范JSON）"))
    payload_digest = models.CharField(_("内容摘要"), max_length=64)
    prev_hash = models.CharField(_("前一条摘要"), max_length=64)
    entry_hash = models.CharField(_("条目摘要"), max_length=64)
    created_at = models.DateTimeField(_("记录时间"))
    # No index of its own: (batch, leaf_index) below serves every lookup by batch. Each index is
    # paid on every append, which sits inside every workflow transition.
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
    )
    leaf_index = models.PositiveIntegerField(_("叶序号"), null=True, blank=True)

    class Meta:
        verbose_name = _("存证条目")
        verbose_name_plural = _("存证条目")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "seq"], name="ledger_subject_seq_unique"),
            # A constraint rather than unique=True: no extra LIKE index on PostgreSQL.
            models.UniqueConstraint(fields=["ref"], name="ledger_entry_ref_unique"),
            # Partial: an entry enters this index when it is sealed, not on the append path.
            models.UniqueConstraint(
                fields=["batch", "leaf_index"], condition=Q(batch__isnull=False), name="ledger_batch_leaf_unique"
            ),
        ]
        indexes = [
            # The batcher's scan: "entries not sealed yet", small and hot; the rest of the table is cold.
            models.Index(fields=["id"], condition=Q(batch__isnull=True), name="ledger_entry_unsealed"),
        ]

    def __str__(self) -> str:
        return f"{self.subject}#{self.seq} {self.kind}"
