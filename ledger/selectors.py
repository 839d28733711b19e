"""Reads of the ledger: inclusion proofs, signed roots, entries by source reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.hashing import timestamp_us
from ledger.models import Batch, Entry

# Entry kinds whose payloads hold no personal data and may be shown to anyone holding the result.
PUBLIC_KINDS = frozenset({"result_digest", "result_revoked"})


def entry_by_ref(ref: str) -> Entry | None:
    return Entry.objects.filter(ref=ref).select_related("batch").first()


def latest_batch() -> Batch | None:
    return Batch.objects.order_by("-seq").first()


@dataclass(frozen=True)
class Proof:
    entry: Entry
    batch: Batch | None
    path: list[str]

    def as_dict(self, *, include_payload: bool) -> dict[str, Any]:
        e = self.entry
        data: dict[str, Any] = {
            "entry": {
                "id": e.pk,
                "subject": e.subject,
                "seq": e.seq,
                "kind": e.kind,
                "payload_digest": e.payload_digest,
                "prev_hash": e.prev_hash,
                "created_at": e.created_at.isoformat(),
                "created_us": timestamp_us(e.created_at),
                "entry_hash": e.entry_hash,
                "payload": e.payload if include_payload else None,
            },
            "hashing": {
                "payload_digest": "SHA-256(payload as stored, UTF-8)",
                "entry_hash": (
                    "SHA-256('tongban-ledger-entry-v1|' subject '|' seq '|' kind '|' payload_digest "
                    "'|' prev_hash '|' created_us)"
                ),
                "leaf": "SHA-256(0x00 || entry_hash bytes) (RFC 6962)",
                "node": "SHA-256(0x01 || left || right) (RFC 6962)",
                "signature": "Ed25519 over 'tongban-ledger-root-v1\\x00' || statement",
            },
            "sealed": self.batch is not None,
        }
        if self.batch is not None:
            b = self.batch
            data.update(
                {
                    "leaf_index": e.leaf_index,
                    "tree_size": b.size,
                    "audit_path": self.path,
                    "root": b.root,
                    "batch": {
                        "seq": b.seq,
                        "statement": b.statement,
                        "statement_hash": b.statement_hash,
                        "kid": b.kid,
                        "signature": b.signature,
                    },
                }
            )
        return data


def inclusion_proof(entry: Entry) -> Proof:
    """The RFC 6962 audit path of ``entry`` in its batch (empty while it waits to be sealed)."""
    if entry.batch_id is None or entry.leaf_index is None:
        return Proof(entry=entry, batch=None, path=[])
    batch = entry.batch
    assert batch is not None
    hashes = Entry.objects.filter(batch_id=entry.batch_id).order_by("leaf_index").values_list("entry_hash", flat=True)
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]
    path = [p.hex() for p in merkle.inclusion_path(entry.leaf_index, leaves)]
    return Proof(entry=entry, batch=batch, path=path)


def check_proof(data: dict[str, Any]) -> bool:
    """Recheck a proof dict produced by ``Proof.as_dict`` (hashes only; the caller checks the signature)."""
    if not data.get("sealed"):
        return False
    leaf = merkle.leaf_hash(bytes.fromhex(data["entry"]["entry_hash"]))
    path = [bytes.fromhex(p) for p in data["audit_path"]]
    return merkle.verify_inclusion(leaf, data["leaf_index"], data["tree_size"], path, bytes.fromhex(data["root"]))
