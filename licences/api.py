"""Results API (API.md § Results): the PDF, verification, public keys, revocation, the e-licence
library and what a case can reuse. Thin: parse, call one action or selector, respond."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from licences import actions, conf, consent, selectors
from licences.keys import get_keyring
from licences.serializers import (
    ELicenceSerializer,
    ReusableRequirementSerializer,
    ReuseConsentSerializer,
    RevokeSerializer,
    VerificationSerializer,
)
from workflows import selectors as wf_selectors


class VerifyThrottle(AnonRateThrottle):
    scope = "result_verify"

    def get_rate(self) -> str:
        return conf.verify_rate()


class ResultPdfView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("result", str, description="result id (a joint case has several)")],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="not visible")},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        """The signed result document: the applicant, or staff whose scope covers the case; 404 otherwise."""
        result = selectors.result_of_case(request.user, number, request.query_params.get("result"))  # type: ignore[arg-type]
        if result is None:
            raise Http404
        if result.revoked_at is not None:
            return Response(
                {
                    "detail": _("该结果已被发证部门撤销（%(reason)s），不再提供文书。")
                    % {"reason": result.revoked_reason}
                },
                status=status.HTTP_410_GONE,
            )
        doc = actions.render_result_document(result_id=result.pk)
        try:
            data = actions.document_bytes(doc)
        except actions.DocumentIntegrityError:
            raise exceptions.APIException(_("结果文书校验失败，请联系发证部门。")) from None
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{result.number}.pdf"'
        response["X-Content-SHA256"] = doc.sha256
        response["Cache-Control"] = "private, no-store"
        return response


class ResultVerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(
        parameters=[OpenApiParameter("p", str, description="the QR payload (token or verification URL)")],
        responses={200: VerificationSerializer},
    )
    def get(self, request: Request, result_id: str) -> Response:
        """Anyone: is this result genuine, and still in force? With ?p= the QR payload's signature is
        checked too; a forged, re-keyed or truncated payload is reported as such, never as valid."""
        outcome = selectors.verify(result_id, request.query_params.get("p") or None)
        if outcome is None:
            raise Http404
        return Response(outcome.as_dict())


class PayloadVerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(
        operation_id="v1_results_verify_payload",
        parameters=[OpenApiParameter("p", str, required=True, description="the QR payload")],
        responses={200: VerificationSerializer},
    )
    def get(self, request: Request) -> Response:
        """Verify a scanned QR payload without knowing the result id."""
        token = request.query_params.get("p", "")
        if not token:
            raise exceptions.ValidationError({"p": [_("请提供二维码内容。")]})
        outcome = selectors.verify(None, token)
        assert outcome is not None
        return Response(outcome.as_dict())


class PublicKeyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        parameters=[OpenApiParameter("kid", str, description="a key id from a QR payload; default the active key")],
        responses={(200, "application/x-pem-file"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        """The PEM public key that verifies QR payloads (the active one, or ?kid= for a rotated one)."""
        ring = get_keyring()
        kid = request.query_params.get("kid") or ring.active_kid
        info = ring.keys.get(kid)
        if info is None:
            raise Http404
        response = HttpResponse(info.public_pem, content_type="application/x-pem-file")
        response["X-Key-Id"] = info.kid
        response["Cache-Control"] = "public, max-age=3600"
        return response


class KeysView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        responses=inline_serializer(
            "ResultKeys",
            {"active": serializers.CharField(), "keys": serializers.ListField(child=serializers.DictField())},
        )
    )
    def get(self, request: Request) -> Response:
        """Every known verification key (rotation): offline verifiers cache this list."""
        ring = get_keyring()
        return Response(
            {
                "active": ring.active_kid,
                "keys": [
                    {"kid": kid, "alg": "Ed25519", "pem": info.public_pem, "active": kid == ring.active_kid}
                    for kid, info in sorted(ring.keys.items())
                ],
            }
        )


class RevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RevokeSerializer, responses={200: VerificationSerializer})
    def post(self, request: Request, result_id: str) -> Response:
        """撤销 by the issuing authority, with a reason: 403 for anyone else who can see the case,
        404 outside scope, 409 when already revoked."""
        result = selectors.visible_result(request.user, result_id)  # type: ignore[arg-type]
        if result is None:
            raise Http404
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.revoke_result(result=result, actor=request.user, reason=body.validated_data["reason"])  # type: ignore[arg-type]
        outcome = selectors.verify(result.pk)
        assert outcome is not None
        return Response(outcome.as_dict())


class ELicenceListView(generics.ListAPIView):
    """The caller's own e-licence library (电子证照库)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ELicenceSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.library_for(self.request.user).order_by("-issued_at", "pk")  # type: ignore[arg-type]


class CaseReusableView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ReusableRequirementSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        """Per requirement: the applicant's e-licences and shared materials this case can reuse,
        with digests and original-sighted records. The applicant; staff in scope only under a live
        grant the applicant gave them in the moment (403 without, 404 outside scope)."""
        case = wf_selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        if request.user.is_staff_role and consent.active_grant(case, request.user) is None:  # type: ignore[union-attr, arg-type]
            raise exceptions.PermissionDenied(consent.needs_grant_message())
        rows = selectors.reusable_for_case(case)
        return Response(ReusableRequirementSerializer(rows, many=True).data)


class CaseConsentsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ReuseConsentSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        """The consent records (免提交) of a case: which e-licence or shared material replaced which
        requirement, who recorded the consent, when, through which channel."""
        case = wf_selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        rows = selectors.consents_for_case(case)
        return Response(ReuseConsentSerializer(rows, many=True).data)


class ReuseGrantOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.number")
    phone_masked = serializers.SerializerMethodField()
    channel = serializers.CharField()
    requested_at = serializers.DateTimeField()
    code_expires_at = serializers.DateTimeField()
    consented_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    def get_phone_masked(self, g: Any) -> str:
        return str(g.applicant.phone_masked)


class ReuseGrantConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class CaseReuseGrantsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: ReuseGrantOutSerializer})
    def post(self, request: Request, number: str) -> Response:
        """Staff in scope ask the applicant, present at the window, for consent to reuse their
        materials: a one-time code goes to the applicant's verified phone (400 when there is none)."""
        case = wf_selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        grant = consent.request_grant(case=case, actor=request.user)  # type: ignore[arg-type]
        return Response(ReuseGrantOutSerializer(grant).data, status=status.HTTP_202_ACCEPTED)


class CaseReuseGrantConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReuseGrantConfirmSerializer, responses={200: ReuseGrantOutSerializer})
    def post(self, request: Request, number: str, grant_id: int) -> Response:
        """The requesting clerk enters the code the applicant read out: the grant is live."""
        case = wf_selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        body = ReuseGrantConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = consent.confirm_with_code(
            case=case,
            actor=request.user,  # type: ignore[arg-type]
            grant_id=grant_id,
            code=body.validated_data["code"],
        )
        return Response(ReuseGrantOutSerializer(grant).data)


class MyReuseGrantsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ReuseGrantOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Requests from staff waiting for the signed-in applicant's answer."""
        return Response(ReuseGrantOutSerializer(consent.pending_for(request.user), many=True).data)  # type: ignore[arg-type]


class MyReuseGrantApproveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: ReuseGrantOutSerializer})
    def post(self, request: Request, grant_id: int) -> Response:
        """The applicant approves a clerk's request in their own session."""
        grant = consent.approve_in_session(grant_id=grant_id, actor=request.user)  # type: ignore[arg-type]
        return Response(ReuseGrantOutSerializer(grant).data)
