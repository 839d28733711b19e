"""Serializers of the results API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from licences.models import ELicence, ReuseConsent
from workflows.models import Material


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, allow_blank=False, trim_whitespace=True)


class VerificationSerializer(serializers.Serializer):
    """Shape of GET /api/v1/results/<id>/verify/ (API.md plus details)."""

    valid = serializers.BooleanField()
    revoked = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["valid", "revoked", "forged", "unknown_key", "malformed", "unknown"])
    reason = serializers.CharField()
    id = serializers.CharField(allow_null=True)
    number = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    result_type = serializers.CharField(allow_null=True)
    item = serializers.CharField(allow_null=True)
    item_code = serializers.CharField(allow_null=True)
    holder_masked = serializers.CharField(allow_null=True)
    holder_id_masked = serializers.CharField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    issuer = serializers.CharField(allow_null=True)
    issuer_code = serializers.CharField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField(allow_null=True)
    kid = serializers.CharField(allow_null=True)
    document_sha256 = serializers.CharField(allow_null=True)
    ledger = serializers.DictField(allow_null=True)


class ELicenceSerializer(serializers.ModelSerializer):
    result = serializers.CharField(source="result_id")
    issuer = serializers.CharField(source="issuer.name")
    status = serializers.CharField()

    class Meta:
        model = ELicence
        fields = [
            "id",
            "result",
            "license_type",
            "item_code",
            "title",
            "number",
            "issuer",
            "issued_at",
            "valid_until",
            "status",
        ]


class SharedMaterialSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number")
    requirement = serializers.CharField(source="requirement.code")
    original_sighted = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = [
            "id",
            "case",
            "requirement",
            "source",
            "sha256",
            "size",
            "uploaded_at",
            "valid_until",
            "original_sighted",
        ]

    def get_original_sighted(self, m: Material) -> dict[str, Any] | None:
        if m.original_sighted_at is None:
            return None
        by = m.original_sighted_by
        return {
            "by": (by.real_name or by.get_username()) if by else None,
            "at": m.original_sighted_at.isoformat(),
            "hall": m.original_sighted_hall.name if m.original_sighted_hall else None,
        }


class ReusableRequirementSerializer(serializers.Serializer):
    requirement = serializers.CharField()
    name = serializers.CharField()
    e_license_type = serializers.CharField(allow_blank=True)
    e_licences = ELicenceSerializer(many=True)
    shared_materials = SharedMaterialSerializer(many=True)


class ReuseConsentSerializer(serializers.ModelSerializer):
    requirement = serializers.CharField(source="requirement.code")
    material = serializers.IntegerField(source="material_id")
    sha256 = serializers.CharField(source="material.sha256")
    e_licence = serializers.SerializerMethodField()
    shared_material = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()
    ledger_entry = serializers.IntegerField(source="ledger_entry_id", allow_null=True)

    class Meta:
        model = ReuseConsent
        fields = [
            "id",
            "requirement",
            "kind",
            "material",
            "sha256",
            "e_licence",
            "shared_material",
            "consent_text",
            "channel",
            "recorded_by",
            "consented_at",
            "ledger_entry",
        ]

    def get_e_licence(self, c: ReuseConsent) -> dict[str, Any] | None:
        e = c.e_licence
        return {"id": e.pk, "number": e.number, "title": e.title} if e else None

    def get_shared_material(self, c: ReuseConsent) -> dict[str, Any] | None:
        m = c.shared_material
        return {"id": m.pk, "case": m.case.number, "sha256": m.sha256} if m else None

    def get_recorded_by(self, c: ReuseConsent) -> str:
        u = c.recorded_by
        return u.real_name or u.get_username()
