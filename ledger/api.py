"""Ledger API: full verification (supervisors, admins), inclusion proofs, the signed roots."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import extensions, selectors
from ledger.models import Batch, Entry
from ledger.verify import verify_ledger

AUDITOR_ROLES = ("supervisor", "admin")


def is_auditor(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role in AUDITOR_ROLES))


class LedgerVerifyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "LedgerVerify",
            {
                "ok": serializers.BooleanField(),
                "entries": serializers.IntegerField(),
                "root": serializers.CharField(allow_null=True),
                "head": serializers.CharField(allow_null=True),
                "batches": serializers.IntegerField(),
                "unsealed": serializers.IntegerField(),
                "first_problem": serializers.CharField(allow_null=True),
                "seconds": serializers.FloatField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        """Recompute every chain, Merkle root and signature (supervisors and admins)."""
        if not is_auditor(request.user):
            raise exceptions.PermissionDenied(_("仅监督人员和管理员可以核验存证账本。"))
        report = verify_ledger()
        return Response(
            {
                "ok": report.ok,
                "entries": report.entries,
                "root": report.root,
                "head": report.head,
                "batches": report.batches,
                "unsealed": report.unsealed,
                "first_problem": report.first.describe() if report.first else None,
                "seconds": report.seconds,
            }
        )


class ProofView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "LedgerProof", {"entry": serializers.DictField(), "sealed": serializers.BooleanField()}
        )
    )
    def get(self, request: Request, entry_id: int) -> Response:
        """RFC 6962 inclusion proof of one entry in its signed batch. Result entries are public
        (they carry no personal data); other entries only for supervisors and admins, and only
        for subjects within their jurisdiction (a case's entries: scoped like the case), 404
        otherwise without revealing that the entry exists."""
        entry = Entry.objects.select_related("batch").filter(pk=entry_id).first()
        if entry is None:
            raise Http404
        if entry.kind not in selectors.PUBLIC_KINDS and not (
            is_auditor(request.user) and extensions.may_read_subject(request.user, entry.subject)
        ):
            raise Http404
        return Response(selectors.inclusion_proof(entry).as_dict(include_payload=True))


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Batch
        fields = ["seq", "size", "root", "prev_hash", "statement", "statement_hash", "kid", "signature", "created_at"]


class RootsView(generics.ListAPIView):
    """The signed batch roots, newest first: what an auditor pins and compares over time."""

    permission_classes = [AllowAny]
    serializer_class = BatchSerializer
    queryset = Batch.objects.order_by("-seq")
