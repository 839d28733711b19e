from __future__ import annotations

from rest_framework import serializers


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
