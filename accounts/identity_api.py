"""Real-name binding at a window: a clerk confirms a citizen's ID number, and the refused
(conflicting) claims waiting for one. Thin: parse, call one action or selector, respond."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import actions
from accounts.models import IdentityClaim, Role, User
from accounts.protect import mask_phone


class IdentityConfirmSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    id_number = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    id_checked = serializers.BooleanField(required=False, default=False)


class IdentityConfirmedSerializer(serializers.Serializer):
    phone_masked = serializers.CharField()
    id_number_masked = serializers.CharField()
    real_name = serializers.CharField()
    id_verified_via = serializers.CharField()
    id_verified_at = serializers.DateTimeField()
    claims_resolved = serializers.IntegerField()


class IdentityClaimSerializer(serializers.ModelSerializer):
    phone_masked = serializers.SerializerMethodField()

    class Meta:
        model = IdentityClaim
        fields = ["id", "phone_masked", "id_number_masked", "name", "reason", "attempts", "created_at", "resolved_at"]

    def get_phone_masked(self, c: IdentityClaim) -> str:
        return mask_phone(c.phone)


class IdentityConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=IdentityConfirmSerializer, responses={200: IdentityConfirmedSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        """A window clerk, with the ID card in hand, binds it to the account of ``phone`` (实名核验)."""
        body = IdentityConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user, closed = actions.confirm_identity(actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(
            {
                "phone_masked": user.phone_masked,
                "id_number_masked": user.id_number_masked,
                "real_name": user.real_name,
                "id_verified_via": user.id_verified_via,
                "id_verified_at": serializers.DateTimeField().to_representation(user.id_verified_at)  # type: ignore[arg-type]
                if user.id_verified_at
                else None,
                "claims_resolved": closed,
            }
        )


class IdentityClaimListView(generics.ListAPIView):
    """Refused claims of ID numbers still open (clerks settle them at a window; supervisors watch)."""

    permission_classes = [IsAuthenticated]
    serializer_class = IdentityClaimSerializer

    def get_queryset(self) -> QuerySet[IdentityClaim]:
        user = self.request.user
        assert isinstance(user, User)
        if user.role not in (Role.WINDOW_CLERK, Role.SUPERVISOR, Role.ADMIN) and not user.is_superuser:
            raise exceptions.PermissionDenied(_("仅窗口人员和监督人员可以查看实名绑定冲突。"))
        return IdentityClaim.objects.filter(resolved_at__isnull=True).order_by("-created_at", "-pk")
