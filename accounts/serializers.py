from __future__ import annotations

from rest_framework import serializers

from accounts.models import IdentityClaim


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    # The authenticator's code (or a recovery code): approvers, supervisors and admins.
    otp = serializers.CharField(max_length=16, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class OtpRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)


class OtpRequestResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_in = serializers.IntegerField()


class OtpVerifySerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    code = serializers.CharField(max_length=12)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    real_name = serializers.CharField()
    phone_masked = serializers.CharField()
    id_number_masked = serializers.CharField()
    id_needs_review = serializers.BooleanField()
    id_verified = serializers.BooleanField()
    region = serializers.CharField(source="region_id", allow_null=True)
    department = serializers.CharField(source="department.code", allow_null=True, default=None)


class IdentityConfirmSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    id_number = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    id_checked = serializers.BooleanField(required=False, default=False)


class IdentityConfirmedSerializer(serializers.Serializer):
    # Renders {"user": <the bound account>, "claims_resolved": <how many claims the binding closed>}
    # (a comment, not a docstring: the docstring would become the schema's description).
    phone_masked = serializers.CharField(source="user.phone_masked")
    id_number_masked = serializers.CharField(source="user.id_number_masked")
    real_name = serializers.CharField(source="user.real_name")
    id_verified_via = serializers.CharField(source="user.id_verified_via")
    id_verified_at = serializers.DateTimeField(source="user.id_verified_at")
    claims_resolved = serializers.IntegerField()


class IdentityClaimSerializer(serializers.ModelSerializer):
    phone_masked = serializers.CharField(read_only=True)

    class Meta:
        model = IdentityClaim
        fields = ["id", "phone_masked", "id_number_masked", "name", "reason", "attempts", "created_at", "resolved_at"]
