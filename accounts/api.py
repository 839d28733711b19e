"""Authentication endpoints: staff tokens (with django-axes lockout) and citizens' SMS codes."""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts import actions, tokens, twofactor
from accounts.devices import device_id, ensure_device, set_device_cookie
from accounts.models import User
from accounts.serializers import (
    MeSerializer,
    OtpRequestResponseSerializer,
    OtpRequestSerializer,
    OtpVerifySerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from config.client_ip import client_ip


class OtpVerifyThrottle(AnonRateThrottle):
    # Per address, so only a backstop sized for carrier-grade NAT; the tight limits are per code,
    # per phone and per device (accounts.actions.verify_otp).
    scope = "otp_verify"


class StaffTokenView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        # Bad credentials are a 401 (with the scheme to use), not a 403.
        return "Token"

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = authenticate(
                request=request._request,
                username=data.validated_data["username"],
                password=data.validated_data["password"],
            )
        except AxesBackendPermissionDenied:
            user = None
            locked = True
        else:
            locked = bool(getattr(request._request, "axes_locked_out", False))
        if locked:
            raise exceptions.Throttled(detail=_("登录失败次数过多，账户已临时锁定，请稍后再试。"))
        if user is None or not isinstance(user, User) or not user.is_staff_role:
            raise exceptions.AuthenticationFailed(_("用户名或密码错误。"))
        if twofactor.needs_second_factor(user):
            try:
                ok = twofactor.check(user, data.validated_data.get("otp"))
            except twofactor.SecondFactorMissing:
                raise exceptions.AuthenticationFailed(
                    _("该账户须先绑定动态口令（身份验证器）才能登录，请联系系统管理员。")
                ) from None
            if not ok:
                raise exceptions.AuthenticationFailed(_("需要动态口令，或动态口令错误。"))
        return Response({"token": tokens.issue(user).key})


class OtpRequestView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=OtpRequestSerializer, responses={202: OtpRequestResponseSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = OtpRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = ensure_device(request._request)
        try:
            actions.request_otp(phone=data.validated_data["phone"], ip=client_ip(request), device=device)
        except actions.RateLimited as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from None
        response = Response(
            {"detail": _("验证码已发送。"), "expires_in": settings.OTP_TTL_SECONDS}, status=status.HTTP_202_ACCEPTED
        )
        set_device_cookie(request._request, response)
        return response


class OtpVerifyView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [OtpVerifyThrottle]

    @extend_schema(request=OtpVerifySerializer, responses={200: TokenResponseSerializer}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = OtpVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            _user, token = actions.verify_otp(**data.validated_data, device=device_id(request._request))
        except actions.RateLimited as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from None
        return Response({"token": token})


class LogoutView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        """Revoke the caller's token (and end the session, if the call came with one)."""
        tokens.revoke(request.user)
        if request.session is not None and request.session.session_key:
            request.session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: MeSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
