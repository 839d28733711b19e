"""The cases API (API.md § Cases): thin views that parse, call one action or selector, respond."""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from config.parsers import LimitedJSONParser
from core.baked import BakedQuery
from govmap.models import Region
from halls.models import Hall
from halls.scope import active_posts
from services.models import Item
from workflows import actions, extensions, material_files, selectors
from workflows.actions import ApplicantInput, UploadTooLarge
from workflows.models import Case
from workflows.registry import REGISTRY
from workflows.rules import TRANSITIONS
from workflows.serializers import (
    LIST_COLUMNS,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    MaterialInSerializer,
    MaterialOutSerializer,
    MaterialViewSerializer,
    TransitionBodySerializer,
)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("文件过大。")
    default_code = "payload_too_large"


def _first_by(model: type[Model], field: str, value: Any) -> QuerySet[Any]:
    """What ``.filter(field=value).first()`` reads: ordered as first() orders, one row."""
    qs = model._default_manager.all()
    if model is Region:
        qs = qs.defer("boundary")  # a GeoJSON polygon nobody creating a case needs
    qs = qs.filter(**{field: value})
    return (qs if qs.ordered else qs.order_by("pk"))[:1]


# The intake's lookups by code (item, region, hall), compiled once per process (core.baked).
_LOOKUPS: dict[tuple[type[Model], str], BakedQuery[Any]] = {}


def _get(model: type[Model], field: str, value: Any, error_field: str, message: str) -> Any:
    lookup = _LOOKUPS.get((model, field))
    if lookup is None:
        lookup = _LOOKUPS.setdefault((model, field), BakedQuery(functools.partial(_first_by, model, field)))
    found = lookup(value) if value else []
    if not found:
        raise DjangoValidationError({error_field: [message]})
    return found[0]


def _own_hall(request: Request, code: str | None) -> Hall | None:
    """The hall ``code`` if it is one of the calling clerk's posts: loaded with the posts already
    (halls.scope.active_posts), so the intake does not read it again. Anyone else: None."""
    user = request.user
    if not code or getattr(user, "role", None) != Role.WINDOW_CLERK:
        return None
    return next((p.hall for p in active_posts(user) if p.hall.code == code), None)  # type: ignore[arg-type]


def _case_or_404(request: Request, number: str) -> Case:
    case = selectors.case_for(request.user, number)  # type: ignore[arg-type]
    if case is None:
        raise Http404
    return case


def _detail(request: Request, case: Case, code: int = status.HTTP_200_OK, *, created: bool = False) -> Response:
    """Render ``case`` as the action left it: the actions write every field they change onto the
    object they return (and its to-one rows were loaded by the lookup), so the case is not read
    again; the serializer reads the case's own lists (events, materials, results) once each.
    ``created``: the case was created by this request (creation writes no material and spawns
    no sub-case, and its one event is shown as the action wrote it)."""
    context = {"request": request, "created": created}
    return Response(CaseDetailSerializer(case, context=context).data, status=code)


class CaseListCreateView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = CaseListSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        p = self.request.query_params
        return selectors.case_list(
            self.request.user,  # type: ignore[arg-type]
            state=p.get("state", ""),
            mode=p.get("mode", ""),
            sla=p.get("sla", ""),
            only=LIST_COLUMNS,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="state, or several separated by commas"),
            OpenApiParameter("mode", str, enum=["online", "proxy", "joint"]),
            OpenApiParameter("sla", str, enum=["green", "yellow", "red"]),
        ],
        responses=CaseListSerializer(many=True),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseDetailSerializer})
    def post(self, request: Request) -> Response:
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        item = _get(Item, "code", data["item"], "item", _("未找到该事项。"))
        jurisdiction = _get(Region, "adcode", data["jurisdiction"], "jurisdiction", _("未知的行政区划代码。"))
        delivery = data["delivery"]
        dhall = (
            _own_hall(request, delivery["hall"])
            or _get(Hall, "code", delivery["hall"], "delivery.hall", _("未找到该领证场所。"))
            if delivery.get("hall")
            else None
        )
        common = {
            "actor": request.user,
            "item": item,
            "jurisdiction": jurisdiction,
            "delivery_method": delivery["method"],
            "delivery_hall": dhall,
            "delivery_address": delivery.get("address", ""),
            "mode": data["mode"],
            "form": data.get("form"),
        }
        if data.get("receiving_hall") or request.user.role == "window_clerk":  # type: ignore[union-attr]
            hall = _own_hall(request, data.get("receiving_hall")) or _get(
                Hall, "code", data.get("receiving_hall"), "receiving_hall", _("请填写收件场所。")
            )
            applicant = data.get("applicant")
            if not applicant:
                raise DjangoValidationError({"applicant": [_("窗口收件须填写申请人信息。")]})
            case = actions.receive(
                receiving_hall=hall,
                applicant=ApplicantInput(applicant["name"], applicant["id_number"], applicant["phone"]),
                **common,
            )
        else:
            case = actions.create_online(**common)
        return _detail(request, case, status.HTTP_201_CREATED, created=True)


class CaseDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request: Request, number: str) -> Response:
        return _detail(request, _case_or_404(request, number))


class CaseMaterialsView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, LimitedJSONParser]

    @extend_schema(
        request=MaterialInSerializer,
        responses={
            201: MaterialOutSerializer,
            400: OpenApiResponse(description="unknown requirement, not PDF/JPG/PNG, empty file"),
            409: OpenApiResponse(description="materials can no longer change in this state"),
            413: OpenApiResponse(description="larger than MAX_UPLOAD_BYTES (default 20 MB)"),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        case = _case_or_404(request, number)
        # Refuse an oversized body before reading it (the file would otherwise be spooled to disk).
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > actions.max_upload_bytes() + 64 * 1024:
            raise PayloadTooLarge(str(UploadTooLarge(actions.max_upload_bytes())))
        body = MaterialInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        common = {"case": case, "actor": request.user, "requirement": data["requirement"]}
        if data.get("file") is not None:
            f = data["file"]
            material = actions.add_material_file(upload=f, filename=f.name, **common)
        else:
            # Consent to reuse (免提交 / 材料共享): the applicant's own request is their consent; staff
            # need the applicant's live grant (checked by the reuse hook). An explicit false refuses.
            consent = data.get("consent")
            reuse = extensions.material_reuse.one()
            if data.get("pledge"):
                material = actions.add_material_pledge(text=data["pledge"], **common)
            elif data.get("e_license"):
                if reuse is not None:
                    material = reuse.use_e_licence(value=data["e_license"], consent=consent, **common)
                else:
                    material = actions.add_material_e_license(result_id=data["e_license"], **common)
            elif reuse is not None:
                material = reuse.use_shared_material(value=data["shared_material"], consent=consent, **common)
            else:
                material = actions.add_material_shared(material_id=data["shared_material"], **common)
        return Response(
            MaterialOutSerializer(material, context={"request": request, "case": case}).data,
            status=status.HTTP_201_CREATED,
        )


class MaterialRefused(exceptions.APIException):
    """409: the stored file failed its SHA-256 check (or is gone): refused, and alerted."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("材料文件与登记的摘要不符，已拒绝提供并告警。")
    default_code = "material_integrity"


class PreviewFailed(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("该文件无法生成预览，请下载原件查看。")
    default_code = "preview_unavailable"


def _material_or_404(request: Request, number: str, material_id: int) -> tuple[Case, Any]:
    found = selectors.material_for(request.user, number, material_id)  # type: ignore[arg-type]
    if found is None:
        raise Http404
    return found


def _opened(request: Request, number: str, material_id: int, kind: str, page: int = 1) -> actions.OpenedMaterial:
    case, material = _material_or_404(request, number, material_id)
    if material.source == "e_license" or material.source == "pledge":
        # No file of ours: an e-licence is shown by its verify page, a pledge by its text.
        raise Http404
    try:
        return actions.open_material(case=case, material=material, actor=request.user, kind=kind, page=page)  # type: ignore[arg-type]
    except material_files.MaterialTampered:
        raise MaterialRefused() from None
    except material_files.MaterialUnavailable:
        raise MaterialRefused(_("材料文件缺失，已拒绝提供并告警。")) from None
    except material_files.PreviewUnavailable:
        raise PreviewFailed() from None


def file_response(opened: actions.OpenedMaterial, *, inline: bool) -> HttpResponse:
    """The bytes with headers that keep a browser from running or caching them."""
    response = HttpResponse(opened.data, content_type=opened.content_type)
    disposition = "inline" if inline else "attachment"
    ascii_name = opened.filename.encode("ascii", "replace").decode().replace("?", "_")
    response["Content-Disposition"] = f'{disposition}; filename="{ascii_name}"'
    response["Content-Length"] = str(len(opened.data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # An uploaded PDF opened from the download link must not run scripts in our origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:"
    response["X-Page-Count"] = str(opened.pages)
    response["X-Page"] = str(opened.page)
    return response


_FILE_RESPONSES = {
    200: OpenApiResponse(description="the file (Content-Disposition set); views are logged on the case"),
    404: OpenApiResponse(description="unknown case or material, or outside the caller's duty"),
    409: OpenApiResponse(description="the stored file failed its SHA-256 check or is missing: refused and alerted"),
}


class MaterialFileView(APIView):
    """The material's original file, for those whose duty covers the case and for the applicant."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={**_FILE_RESPONSES, 200: OpenApiResponse(description="the original file, as an attachment")}
    )
    def get(self, request: Request, number: str, material_id: int) -> HttpResponse:
        return file_response(_opened(request, number, material_id, "download"), inline=False)


class MaterialPreviewView(APIView):
    """A PNG of one page with a visible watermark (仅供 <case> 办理使用, the viewer, Beijing time)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="page of a PDF, from 1 (default 1)")],
        responses={
            **_FILE_RESPONSES,
            200: OpenApiResponse(description="image/png; X-Page and X-Page-Count headers"),
            422: OpenApiResponse(description="the file cannot be rendered (damaged image, no such page)"),
        },
    )
    def get(self, request: Request, number: str, material_id: int) -> HttpResponse:
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            raise DjangoValidationError({"page": [_("页码须为正整数。")]}) from None
        if page < 1 or page > 500:
            raise DjangoValidationError({"page": [_("页码须为正整数。")]})
        return file_response(_opened(request, number, material_id, "preview", page), inline=True)


class MaterialViewsView(generics.ListAPIView):
    """The case's material view log: who opened which material, how and when (refusals included)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MaterialViewSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        case = _case_or_404(self.request, self.kwargs["number"])  # type: ignore[arg-type]
        return selectors.material_views(case)


class CaseTransitionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=TransitionBodySerializer,
        parameters=[
            OpenApiParameter("transition", str, OpenApiParameter.PATH, enum=[t for t in TRANSITIONS if t != "receive"])
        ],
        responses={
            200: CaseDetailSerializer,
            400: OpenApiResponse(description='{"detail", "errors": {field: [messages]}}'),
            403: OpenApiResponse(description="the caller sees the case but may not take this step"),
            404: OpenApiResponse(description="unknown case or transition, or outside the caller's jurisdiction"),
            409: OpenApiResponse(description='{"detail", "state", "allowed": [transitions this caller may take]}'),
        },
    )
    def post(self, request: Request, number: str, transition: str) -> Response:
        if transition not in TRANSITIONS or transition == "receive":
            raise Http404
        case = _case_or_404(request, number)
        body = TransitionBodySerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        kwargs = REGISTRY[transition].body_kwargs(body.validated_data)
        case = actions.TRANSITION_ACTIONS[transition](case=case, actor=request.user, **kwargs)
        return _detail(request, case)


class RepeatedCorrectionsView(generics.ListAPIView):
    """Cases that needed more than one correction notice (supervisors, within their scope)."""

    permission_classes = [IsAuthenticated]
    serializer_class = CaseListSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        user = self.request.user
        if user.role not in ("supervisor", "hall_supervisor", "admin") and not user.is_superuser:  # type: ignore[union-attr]
            raise exceptions.PermissionDenied(_("仅监督人员可以查看。"))
        return selectors.repeated_corrections(user)  # type: ignore[arg-type]
