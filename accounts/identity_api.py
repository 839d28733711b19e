"""Real-name binding at a window: a clerk confirms a citizen's ID number, and the refused
(conflicting) claims waiting for one. Thin: parse, call one action or selector, respond."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import actions
from accounts.models import IdentityClaim, Role, User
from accounts.serializers import IdentityClaimSerializer, IdentityConfirmedSerializer, IdentityConfirmSerializer


class IdentityConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=IdentityConfirmSerializer, responses={200: IdentityConfirmedSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        """A window clerk, with the ID card in hand, binds it to the account of ``phone`` (实名核验)."""
        body = IdentityConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user, closed = actions.confirm_identity(actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(IdentityConfirmedSerializer({"user": user, "claims_resolved": closed}).data)


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
