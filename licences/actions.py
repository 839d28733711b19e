"""Every write of the results module: render and sign, revoke, file into the e-licence library,
reuse an e-licence or a shared material (免提交), and blank certificate stock.

All actions are keyword-only, run in one transaction and append what they change to the ledger
(``ledger.actions.append``) inside that transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core import errors as domain
from halls.models import Hall, Window
from halls.scope import posted_at
from ledger.actions import append
from ledger.models import Kind
from licences import conf, pdf, qr
from licences.keys import get_keyring
from licences.models import (
    BlankStock,
    ELicence,
    ELicenceStatus,
    ResultDocument,
    ReuseConsent,
    ReuseGrant,
    ReuseKind,
    Revocation,
    StockStatus,
)
from licences.records import consent_payload, mask_name, result_payload, revocation_payload
from services.models import MaterialRequirement
from workflows import actions as wf_actions
from workflows import facts
from workflows.ledger_records import case_subject
from workflows.models import Case, CaseState, Material
from workflows.results import Result

logger = logging.getLogger(__name__)

CONSENT_TEXT_E_LICENCE = "申请人同意以电子证照“%(title)s”（%(number)s）代替纸质材料（免提交）。"
CONSENT_TEXT_SHARED = "申请人同意复用其在办件 %(case)s 中提交的材料（SHA-256 %(sha)s…）。"


class AlreadyRevoked(domain.Conflict):
    """The result was revoked before (409)."""

    def __init__(self, result: Result) -> None:
        super().__init__(
            _("该结果已于 %(at)s 撤销。") % {"at": timezone.localtime(result.revoked_at).strftime("%Y-%m-%d %H:%M")},
            state="revoked",
            allowed=[],
        )


class DocumentIntegrityError(Exception):
    """A stored PDF no longer has the SHA-256 recorded when it was issued (and cannot be rebuilt)."""


# --- signing and rendering -----------------------------------------------------------------


def qr_claims(result: Result, kid: str) -> dict[str, Any]:
    """The signed claims printed as the QR code (see licences.qr for the format)."""
    claims: dict[str, Any] = {
        "k": kid,
        "r": result.pk.hex,
        "n": result.number,
        "h": mask_name(result.holder_name),
        "x": result.holder_id_masked,
        "i": result.case.item.code,
        "t": result.result_type,
        "a": result.issuing_department.code,
        "d": timezone.localdate(result.issued_at).isoformat(),
    }
    if result.valid_until:
        claims["u"] = result.valid_until.isoformat()
    return claims


def qr_text_for(result: Result, token: str) -> str:
    base = conf.verify_base_url()
    return f"{base}/verify/{result.pk}/?p={token}" if base else token


def _document_data(result: Result, token: str, kid: str) -> pdf.DocumentData:
    case = result.case
    return pdf.DocumentData(
        template=result.result_type,
        title=result.title,
        number=result.number,
        case_number=case.number,
        holder_name=result.holder_name,
        holder_id_masked=result.holder_id_masked,
        item_name=case.item.name,
        item_code=case.item.code,
        authority=result.issuing_department.name,
        province=conf.issuing_authority_title(),
        jurisdiction=case.jurisdiction.name,
        issued_on=timezone.localdate(result.issued_at),
        valid_until=result.valid_until,
        legal_basis=(case.item.legal_basis or "").strip()[:120],
        qr_text=qr_text_for(result, token),
        kid=kid,
        facts=tuple(facts.printed(case.item, case.form_data)),
    )


def _load_result(result_id: Any) -> Result:
    return Result.objects.select_related("case__item", "case__jurisdiction", "issuing_department").get(pk=result_id)


def render_result_document(*, result_id: Any) -> ResultDocument:
    """Render, sign and store a result's PDF (system action; idempotent — a second call returns the
    stored document). Signs the QR claims with the active province key, renders the template of
    the result type, stores the PDF (default storage, outside the web root) with its SHA-256.
    Side effects: the PDF file; a ResultDocument; a ``result_digest`` ledger entry in the case chain."""
    existing = ResultDocument.objects.filter(result_id=result_id).first()
    if existing is not None:
        return existing
    result = _load_result(result_id)
    ring = get_keyring()
    kid = ring.active.kid
    token = qr.make_token(qr_claims(result, kid), ring.sign)
    rendered = pdf.render(_document_data(result, token, kid))
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    name = f"{conf.documents_prefix()}/{timezone.localdate(result.issued_at):%Y/%m}/{result.pk}.pdf"
    with transaction.atomic():
        # Two workers rendering the same result: the row lock makes the second one find the first's document.
        Result.objects.select_for_update().filter(pk=result.pk).first()
        existing = ResultDocument.objects.filter(result=result).first()
        if existing is not None:
            return existing
        if default_storage.exists(name):
            default_storage.delete(name)  # a render whose transaction rolled back left it behind
        stored = default_storage.save(name, ContentFile(rendered.pdf))
        try:
            doc = ResultDocument.objects.create(
                result=result,
                template=result.result_type,
                storage_name=stored,
                sha256=digest,
                size=len(rendered.pdf),
                qr_payload=token,
                kid=kid,
                font_name=rendered.font_name,
                font_embedded=rendered.font_embedded,
                render_ms=round(rendered.ms, 2),
            )
            doc.ledger_entry = append(
                subject=case_subject(result.case.number),
                kind=Kind.RESULT_DIGEST,
                payload=result_payload(
                    result, document_sha256=digest, qr_sha256=hashlib.sha256(token.encode()).hexdigest(), kid=kid
                ),
                ref=f"result:{result.pk}",
            )
            doc.save(update_fields=["ledger_entry"])
        except Exception:
            default_storage.delete(stored)
            raise
    logger.info(
        "result %s rendered (%s, %.1f ms, font %s)", result.number, digest[:12], rendered.ms, rendered.font_name
    )
    return doc


def document_bytes(doc: ResultDocument) -> bytes:
    """The stored PDF, checked against its recorded SHA-256. A missing file is rebuilt from the
    signed token (rendering is reproducible); a file whose digest changed is never served."""
    try:
        with default_storage.open(doc.storage_name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        data = b""
    if data and hashlib.sha256(data).hexdigest() == doc.sha256:
        return data
    result = _load_result(doc.result_id)
    rebuilt = pdf.render(_document_data(result, doc.qr_payload, doc.kid)).pdf
    if hashlib.sha256(rebuilt).hexdigest() != doc.sha256:
        logger.error("result document %s: stored file changed and cannot be rebuilt identically", doc.result_id)
        raise DocumentIntegrityError(doc.result_id)
    if data:
        logger.error("result document %s: stored file did not match its SHA-256; rebuilt it", doc.result_id)
        default_storage.delete(doc.storage_name)
    default_storage.save(doc.storage_name, ContentFile(rebuilt))
    return rebuilt


# --- revocation ----------------------------------------------------------------------------


def may_revoke(actor: User | None, result: Result) -> bool:
    """Only the issuing authority revokes: an active approver of the result's issuing department."""
    return (
        actor is not None
        and actor.is_active
        and actor.role == Role.APPROVER
        and actor.department_id is not None
        and actor.department_id == result.issuing_department_id
    )


def revoke_result(*, result: Result, actor: User, reason: str) -> Revocation:
    """撤销: the issuing authority withdraws a result with a reason. From then on every verification
    (page, API, QR) reports it revoked and it leaves the e-licence library's usable set.
    Side effects: Result.revoked_at/revoked_reason; a Revocation; a ``result_revoked`` ledger entry."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": [_("请填写撤销原因。")]})
    if len(text) > 255:
        raise ValidationError({"reason": [_("撤销原因不能超过 255 字。")]})
    if not may_revoke(actor, result):
        raise PermissionDenied(_("只有发证部门的审批人员可以撤销该结果。"))
    with transaction.atomic():
        locked = Result.objects.select_for_update().select_related("case", "issuing_department").get(pk=result.pk)
        if locked.revoked_at is not None:
            raise AlreadyRevoked(locked)
        now = timezone.now()
        Result.objects.filter(pk=locked.pk).update(revoked_at=now, revoked_reason=text)
        entry = append(
            subject=case_subject(locked.case.number),
            kind=Kind.RESULT_REVOKED,
            payload=revocation_payload(
                result=locked,
                reason=text,
                department=locked.issuing_department.code,
                revoked_by=actor.pk,
                revoked_at=now,
            ),
            ref=f"result_revoked:{locked.pk}",
        )
        revocation = Revocation.objects.create(
            result=locked,
            reason=text,
            revoked_by=actor,
            department=locked.issuing_department,
            revoked_at=now,
            ledger_entry=entry,
        )
    result.revoked_at, result.revoked_reason = now, text
    return revocation


# --- the e-licence library -----------------------------------------------------------------


def register_delivered_result(*, result: Result) -> ELicence | None:
    """File a delivered result into its holder's e-licence library (idempotent). Revoked results
    are not filed. Called for every result of a case when it reaches ``delivered``.
    Side effects: one ELicence row."""
    result = Result.objects.select_related("case__item", "case__applicant").get(pk=result.pk)
    if result.revoked_at is not None:
        return None
    case = result.case
    if case.state != CaseState.DELIVERED:
        raise ValidationError({"result": [_("办件尚未送达，结果不能入库。")]})
    existing = ELicence.objects.filter(result=result).first()
    return existing if existing is not None else file_result(result)


def file_result(result: Result) -> ELicence:
    """The ELicence of ``result`` (loaded with its case, the case's item and applicant; delivered and
    not revoked: the caller read it so), written now; the one another worker wrote first when two
    file it at once."""
    case = result.case
    try:
        with transaction.atomic():
            return ELicence.objects.create(
                result=result,
                holder=case.applicant,
                holder_id_hash=result.holder_id_hash or case.applicant_id_hash,
                holder_name=result.holder_name,
                license_type=case.item.result_name or result.title,
                item_code=case.item.code,
                title=result.title,
                number=result.number,
                issuer_id=result.issuing_department_id,
                issued_at=result.issued_at,
                valid_until=result.valid_until,
            )
    except IntegrityError:  # filed concurrently
        return ELicence.objects.get(result=result)


def register_delivered_case(*, case_id: int) -> list[ELicence]:
    """Every result of a delivered case into the library (the hook after ``hand_over``,
    ``confirm_receipt`` and ``deliver_online``): one read of its results (with the case, its item
    and applicant) and one of those already filed, then one INSERT per result not filed yet.
    Revoked results are not filed; a case not delivered files nothing."""
    results = list(
        Result.objects.select_related("case__item", "case__applicant")
        .filter(case_id=case_id, case__state=CaseState.DELIVERED)
        .order_by("issued_at", "pk")
    )
    live = [r for r in results if r.revoked_at is None]
    if not live:
        return []
    filed = {e.result_id: e for e in ELicence.objects.filter(result_id__in=[r.pk for r in live])}
    return [filed.get(r.pk) or file_result(r) for r in live]


def _requirement_of(case: Case, requirement: MaterialRequirement | str) -> MaterialRequirement:
    code = requirement.code if isinstance(requirement, MaterialRequirement) else str(requirement or "").strip()
    req = case.item.materials.filter(code=code).first()
    if req is None:
        raise ValidationError({"requirement": [_("该事项没有编码为“%(code)s”的材料。") % {"code": code}]})
    return req


def _reuse_permission(case: Case, actor: User, consent: bool | None) -> ReuseGrant | None:
    """Who may reuse into ``case`` and on whose consent. Staff: only under a live grant the
    applicant gave them in the moment (licences.consent) — no default, no say-so. The applicant:
    their own request is their consent (an explicit false refuses), and only for a number their
    account holds verified. Returns the grant (None for the applicant's own request)."""
    from licences import consent as grants

    if consent is False:
        return None  # the caller refuses with its own message
    if actor.is_staff_role:
        grant = grants.active_grant(case, actor)
        if grant is None:
            raise PermissionDenied(grants.needs_grant_message())
        return grant
    if not grants.identity_established(case) or case.applicant_id != actor.pk:
        raise ValidationError({"applicant": [_("请先完成实名核验：实名核验后才能复用您名下的电子证照和材料。")]})
    return None


def _record_consent(
    *,
    case: Case,
    req: MaterialRequirement,
    kind: str,
    material: Material,
    actor: User,
    text: str,
    e_licence: ELicence | None = None,
    shared: Material | None = None,
    grant: ReuseGrant | None = None,
) -> ReuseConsent:
    now = material.consent_at or timezone.now()
    channel = grant.channel if grant is not None else "applicant"
    consent = ReuseConsent.objects.create(
        grant=grant,
        case=case,
        requirement=req,
        kind=kind,
        material=material,
        e_licence=e_licence,
        shared_material=shared,
        consent_text=text[:255],
        recorded_by=actor,
        channel=channel,
        consented_at=now,
    )
    consent.ledger_entry = append(
        subject=case_subject(case.number),
        kind=Kind.CONSENT,
        payload=consent_payload(
            case=case.number,
            requirement=req.code,
            kind=kind,
            material=material.pk,
            sha256=material.sha256,
            source=(e_licence.number if e_licence else f"material:{shared.pk if shared else ''}"),
            recorded_by=actor.pk,
            channel=channel,
            consented_at=now,
        ),
        ref=f"consent:{consent.pk}",
    )
    consent.save(update_fields=["ledger_entry"])
    return consent


def use_e_licence(
    *, case: Case, requirement: MaterialRequirement | str, e_licence: ELicence, actor: User, consent: bool | None
) -> Material:
    """免提交: satisfy ``requirement`` of ``case`` with an e-licence of the applicant's library.

    Refused (400) without the applicant's consent, for an e-licence of someone else, a revoked or
    expired one, or one of another type than the requirement names; 403 for staff without a live
    grant from the applicant (licences.consent). Who may add materials and in which state is the
    workflow's rule (403 / 409 from workflows.actions).
    Side effects: a Material (source e_license, by reference to the result); a ReuseConsent naming
    the grant; a ``consent`` ledger entry.
    """
    grant = _reuse_permission(case, actor, consent)
    if consent is False:
        raise ValidationError({"consent": [_("须经申请人同意方可使用电子证照代替材料（免提交）。")]})
    req = _requirement_of(case, requirement)
    if not req.e_license_type:
        raise ValidationError({"e_license": [_("该材料不能以电子证照代替。")]})
    if not case.applicant_id_hash or e_licence.holder_id_hash != case.applicant_id_hash:
        raise ValidationError({"e_license": [_("未找到申请人名下的该电子证照。")]})
    status = e_licence.status
    if status != "valid":
        label = ELicenceStatus(status).label
        raise ValidationError({"e_license": [_("该电子证照%(status)s，不能使用。") % {"status": label}]})
    if req.e_license_type not in (e_licence.license_type, e_licence.item_code, e_licence.title):
        raise ValidationError(
            {
                "e_license": [
                    _("该材料需要“%(want)s”，不能用“%(have)s”代替。")
                    % {"want": req.e_license_type, "have": e_licence.title}
                ]
            }
        )
    with transaction.atomic():
        # Hand over the objects already loaded (and checked) here: no second lookup of either.
        material = wf_actions.add_material_e_license(
            case=case, actor=actor, requirement=req, result_id=e_licence.result
        )
        _record_consent(
            case=case,
            req=req,
            kind=ReuseKind.E_LICENCE,
            material=material,
            actor=actor,
            text=CONSENT_TEXT_E_LICENCE % {"title": e_licence.title, "number": e_licence.number},
            e_licence=e_licence,
            grant=grant,
        )
    return material


def shared_source_valid(material: Material, *, today: Any = None) -> bool:
    """A material can be shared while it is current in its case (not superseded by a correction),
    has a stored file, and has not expired."""
    today = today or timezone.localdate()
    return (
        material.superseded_at is None
        and bool(material.file)
        and (material.valid_until is None or material.valid_until >= today)
    )


def use_shared_material(
    *, case: Case, requirement: MaterialRequirement | str, material: Material, actor: User, consent: bool | None = None
) -> Material:
    """材料共享: satisfy ``requirement`` with a material the same applicant supplied in an earlier case,
    by reference (same stored file, same SHA-256, ``shared_from`` pointing at the source; the bytes
    are never copied), while the source is valid. Refused (400) without consent, for another
    applicant's material, another requirement, or a superseded / expired source.
    Side effects: a Material (source shared); a ReuseConsent; a ``consent`` ledger entry."""
    grant = _reuse_permission(case, actor, consent)
    if consent is False:
        raise ValidationError({"consent": [_("须经申请人同意方可复用已提交的材料。")]})
    req = _requirement_of(case, requirement)
    source = Material.objects.select_related("case", "requirement").get(pk=material.pk)
    if source.case_id == case.pk:
        raise ValidationError({"shared_material": [_("该材料已属于本办件。")]})
    if not case.applicant_id_hash or source.case.applicant_id_hash != case.applicant_id_hash:
        raise ValidationError({"shared_material": [_("未找到申请人可复用的该材料。")]})
    if source.requirement.code != req.code:
        raise ValidationError({"shared_material": [_("该材料不是本项材料要求的材料。")]})
    if not shared_source_valid(source):
        raise ValidationError({"shared_material": [_("该材料已失效（已被替换或已过期），请重新提交。")]})
    with transaction.atomic():
        new = wf_actions.add_material_shared(case=case, actor=actor, requirement=req, material_id=source)
        _record_consent(
            case=case,
            req=req,
            kind=ReuseKind.SHARED_MATERIAL,
            material=new,
            actor=actor,
            text=CONSENT_TEXT_SHARED % {"case": source.case.number, "sha": source.sha256[:12]},
            shared=source,
            grant=grant,
        )
    return new


# --- blank certificate stock (就近打证) -------------------------------------------------------


def uses_blank_stock(result_type: str) -> bool:
    return result_type in conf.blank_stock_result_types()


def _may_manage_stock(actor: User, hall: Hall) -> bool:
    if actor.is_superuser or (actor.role == Role.ADMIN and actor.is_active):
        return True
    return actor.role == Role.HALL_SUPERVISOR and posted_at(actor, hall.pk)


def load_blank_stock(*, hall: Hall, result_type: str, serials: Iterable[str], actor: User) -> int:
    """Book a delivery of pre-printed blank stock into a hall (hall supervisors of that hall, admins).
    Serial numbers are unique province-wide. Side effects: BlankStock rows. Returns how many."""
    if not _may_manage_stock(actor, hall):
        raise PermissionDenied(_("只有本场所的大厅负责人或管理员可以登记空白证书。"))
    if not uses_blank_stock(result_type):
        raise ValidationError({"result_type": [_("该结果类型不使用预印空白证书。")]})
    wanted = [s.strip() for s in serials if s and s.strip()]
    if not wanted:
        raise ValidationError({"serials": [_("请填写空白证书流水号。")]})
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"serials": [_("流水号有重复。")]})
    taken = list(BlankStock.objects.filter(serial__in=wanted).values_list("serial", flat=True)[:10])
    if taken:
        raise ValidationError({"serials": [_("流水号已登记：%(serials)s。") % {"serials": "、".join(taken)}]})
    with transaction.atomic():
        BlankStock.objects.bulk_create([BlankStock(hall=hall, result_type=result_type, serial=s) for s in wanted])
    return len(wanted)


def allocate_blank_stock(
    *, result: Result, actor: User, window: Window | None = None, serial: str | None = None
) -> BlankStock | None:
    """Take a blank sheet of the delivery hall for printing ``result``: the one with ``serial`` (the
    sheet the clerk actually fed into the printer; it must be an available sheet of this hall and
    result type), else the next one (lowest serial). The call to make inside ``print``. None when
    the result type is printed on plain paper. Printing the same result again returns its sheet (a
    spoiled sheet is voided first, then a new one taken). Concurrent clerks never get the same
    sheet (row lock, SKIP LOCKED on PostgreSQL).
    Side effects: the sheet is marked used by ``actor`` at ``window``."""
    if not uses_blank_stock(result.result_type):
        return None
    hall_id = result.case.delivery_hall_id
    if hall_id is None:
        raise ValidationError({"blank_stock": [_("该办件不是窗口领取，无需打证。")]})
    with transaction.atomic():
        current = BlankStock.objects.filter(result=result, status=StockStatus.USED).first()
        if current is not None:
            if serial and current.serial != serial:
                raise ValidationError(
                    {"blank_serials": [_("该结果已使用空白证书 %(s)s，如已损坏请先作废。") % {"s": current.serial}]}
                )
            return current
        available = BlankStock.objects.select_for_update(skip_locked=True).filter(
            hall_id=hall_id, result_type=result.result_type, status=StockStatus.AVAILABLE
        )
        if serial:
            sheet = available.filter(serial=serial).first()
            if sheet is None:
                raise ValidationError(
                    {
                        "blank_serials": [
                            _("流水号 %(s)s 不是本场所可用的该类空白证书（未登记、已使用或已作废）。") % {"s": serial}
                        ]
                    }
                )
        else:
            sheet = available.order_by("serial").first()
        if sheet is None:
            raise ValidationError({"blank_stock": [_("本场所的该类空白证书已用完，请先登记入库。")]})
        sheet.status = StockStatus.USED
        sheet.result = result
        sheet.window = window
        sheet.used_by = actor
        sheet.used_at = timezone.now()
        sheet.save(update_fields=["status", "result", "window", "used_by", "used_at"])
    return sheet


def void_blank_stock(*, stock: BlankStock, actor: User, reason: str) -> BlankStock:
    """作废 a spoiled or lost sheet with a reason (clerks of the hall, its supervisors, admins).
    Side effects: the sheet's status and reason."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": [_("请填写作废原因。")]})
    hall = stock.hall
    clerk_here = actor.role == Role.WINDOW_CLERK and posted_at(actor, hall.pk)
    if not (clerk_here or _may_manage_stock(actor, hall)):
        raise PermissionDenied(_("只有本场所人员可以作废空白证书。"))
    with transaction.atomic():
        locked = BlankStock.objects.select_for_update().get(pk=stock.pk)
        if locked.status == StockStatus.VOIDED:
            raise ValidationError({"stock": [_("该空白证书已作废。")]})
        locked.status = StockStatus.VOIDED
        locked.void_reason = text[:255]
        locked.save(update_fields=["status", "void_reason"])
    return locked
