"""Rendering result documents to PDF with reportlab: one template per result type of the catalog
(licence 许可证 / certificate 证书·证明 / approval_notice 批准通知书), a CJK font embedded when one is
installed, an electronic-seal drawn in vector form, and the signed QR code (segno matrix drawn as
vector modules, so it stays sharp at any print resolution).

Output is reproducible (reportlab's ``invariant`` mode: no creation time or random document id),
so re-rendering a result yields the same bytes and the same SHA-256 as the one in the ledger.
"""

from __future__ import annotations

import io
import logging
import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from licences import conf
from licences.qrmatrix import qr_matrix

logger = logging.getLogger(__name__)

SEAL_RED = colors.Color(0.80, 0.06, 0.08)
FRAME = colors.Color(0.55, 0.12, 0.10)
INK = colors.Color(0.1, 0.1, 0.1)
GREY = colors.Color(0.35, 0.35, 0.35)
FALLBACK_FONT = "STSong-Light"
EMBEDDED_NAME = "TongbanCJK"

_font_lock = threading.Lock()
_font: tuple[str, bool, str] | None = None


@dataclass(frozen=True)
class DocumentData:
    template: str
    title: str
    number: str
    case_number: str
    holder_name: str
    holder_id_masked: str
    item_name: str
    item_code: str
    authority: str
    province: str
    jurisdiction: str
    issued_on: date
    valid_until: date | None
    legal_basis: str
    qr_text: str
    kid: str
    # What this result certifies (label, value), from the case's form data, already masked where
    # the law requires (workflows.facts.printed).
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    font_name: str
    font_embedded: bool
    ms: float


def _fc_list_candidates() -> list[str]:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = [line.split(":", 1)[0].strip() for line in out.splitlines()]
    return sorted(p for p in paths if p.lower().endswith((".ttf", ".ttc")))


def cjk_font() -> tuple[str, bool, str]:
    """(font name for reportlab, embedded?, file) — the first embeddable CJK TrueType font found,
    else reportlab's STSong-Light CID font, which viewers substitute and which is NOT embedded."""
    global _font
    with _font_lock:
        if _font is not None:
            return _font
        for path in [*conf.font_candidates(), *_fc_list_candidates()]:
            if not os.path.isfile(path):
                continue
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, path, subfontIndex=0))
            except (TTFError, OSError, ValueError) as exc:  # e.g. CFF-based OpenType
                logger.info("result PDFs: cannot embed %s (%s)", path, exc)
                continue
            _font = (EMBEDDED_NAME, True, path)
            logger.info("result PDFs: embedding CJK font %s", path)
            return _font
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
        logger.warning(
            "result PDFs: no embeddable CJK TrueType font found (install fonts-wqy-microhei); using %s, "
            "which is NOT embedded in the documents",
            FALLBACK_FONT,
        )
        _font = (FALLBACK_FONT, False, "")
        return _font


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break Chinese text at any character (and at newlines) to fit ``width``."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if pdfmetrics.stringWidth(line + ch, font, size) > width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def draw_seal(c: Canvas, cx: float, cy: float, r: float, authority: str, font: str) -> None:
    """An electronic seal: red double ring, a five-pointed star, the authority's name around the
    upper arc and 电子印章 under the star."""
    c.saveState()
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setLineWidth(2.4)
    c.circle(cx, cy, r, stroke=1, fill=0)
    c.setLineWidth(0.7)
    c.circle(cx, cy, r - 4, stroke=1, fill=0)
    outer, inner = r * 0.26, r * 0.26 * 0.382
    star = c.beginPath()
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(90 + i * 36)
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        if i == 0:
            star.moveTo(x, y)
        else:
            star.lineTo(x, y)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    name = authority.strip() or "电子印章"
    n = len(name)
    size = max(7.0, min(13.0, r * 3.6 / max(n, 1)))
    span = min(250.0, max(60.0, n * size * 1.15 / r * 180 / math.pi))
    c.setFont(font, size)
    for i, ch in enumerate(name):
        angle = 90 + span / 2 - (span * i / (n - 1) if n > 1 else span / 2)
        rad = math.radians(angle)
        rr = r - 6 - size
        x, y = cx + rr * math.cos(rad), cy + rr * math.sin(rad)
        c.saveState()
        c.translate(x, y)
        c.rotate(angle - 90)
        c.drawCentredString(0, 0, ch)
        c.restoreState()
    c.setFont(font, max(6.5, size * 0.8))
    c.drawCentredString(cx, cy - r * 0.55, "电子印章")
    c.restoreState()


def draw_qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code as vector modules (quiet zone of 4 modules included in ``size``)."""
    matrix = qr_matrix(text)  # segno.make's matrix, its mask chosen faster (licences/qrmatrix.py)
    border = 4
    count = len(matrix) + 2 * border
    module = size / count
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    path = c.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + border + 1) * module
        col = 0
        width = len(row)
        while col < width:
            if row[col] & 1:
                start = col
                while col < width and row[col] & 1:
                    col += 1
                path.rect(x + (start + border) * module, top, (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _frame(c: Canvas, width: float, height: float) -> None:
    c.setStrokeColor(FRAME)
    c.setLineWidth(3)
    c.rect(28, 28, width - 56, height - 56)
    c.setLineWidth(0.8)
    c.rect(36, 36, width - 72, height - 72)


def _field_rows(c: Canvas, font: str, rows: list[tuple[str, str]], x: float, y: float, width: float) -> float:
    label_w = 96
    for label, value in rows:
        c.setFillColor(GREY)
        c.setFont(font, 12)
        c.drawString(x, y, label)
        c.setFillColor(INK)
        c.setFont(font, 13)
        lines = _wrap(value or "—", font, 13, width - label_w)
        for line in lines:
            c.drawString(x + label_w, y, line)
            y -= 20
        y -= 8
    return y


def _footer(c: Canvas, font: str, d: DocumentData, width: float) -> None:
    draw_qr(c, d.qr_text, 60, 60, 118)
    c.setFillColor(GREY)
    c.setFont(font, 9)
    c.drawString(60, 50, "扫码核验真伪（可离线验证签名）")
    c.drawString(190, 96, f"办件编号：{d.case_number}")
    c.drawString(190, 82, f"签名密钥：{d.kid} · Ed25519")
    c.drawString(190, 68, f"本文书由{d.province}政务服务平台签发，电子签章与纸质印章具有同等效力。")


def _signature_block(c: Canvas, font: str, d: DocumentData, width: float, y: float) -> None:
    right = width - 80
    c.setFillColor(INK)
    c.setFont(font, 13)
    c.drawRightString(right, y, d.authority)
    c.drawRightString(right, y - 22, chinese_date(d.issued_on))
    name_w = pdfmetrics.stringWidth(d.authority, font, 13)
    draw_seal(c, right - min(name_w, 150) / 2, y - 8, 58, d.authority, font)


def _sentence(value: str) -> str:
    """A fact as one sentence: the full stop added once (a value typed with its own 。 keeps it)."""
    value = value.strip()
    return value if value.endswith(("。", "！", "？", ".", "；")) else f"{value}。"


def _validity(d: DocumentData) -> str:
    return f"{chinese_date(d.issued_on)}至{chinese_date(d.valid_until)}" if d.valid_until else "长期有效"


def _licence(c: Canvas, font: str, d: DocumentData, width: float, height: float) -> None:
    _frame(c, width, height)
    c.setFillColor(FRAME)
    c.setFont(font, 14)
    c.drawCentredString(width / 2, height - 92, f"{d.province}政务服务 · 电子证照")
    c.setFont(font, 30)
    c.drawCentredString(width / 2, height - 140, d.title)
    c.setFillColor(INK)
    c.setFont(font, 11)
    c.drawRightString(width - 64, height - 170, f"编号：{d.number}")
    rows = [
        ("持 证 人", d.holder_name),
        ("证件号码", d.holder_id_masked),
        ("许可事项", d.item_name),
        *d.facts,
        ("事项编码", d.item_code),
        ("属    地", d.jurisdiction),
        ("有 效 期", _validity(d)),
        ("发证机关", d.authority),
    ]
    y = _field_rows(c, font, rows, 84, height - 220, width - 168)
    _signature_block(c, font, d, width, min(y - 30, 270))
    _footer(c, font, d, width)


def _certificate(c: Canvas, font: str, d: DocumentData, width: float, height: float) -> None:
    _frame(c, width, height)
    c.setFillColor(INK)
    c.setFont(font, 28)
    c.drawCentredString(width / 2, height - 130, d.title)
    c.setFont(font, 11)
    c.drawRightString(width - 64, height - 160, f"编号：{d.number}")
    if d.facts:
        # The facts themselves are what a third party relies on: state them, one per line.
        stated = "\n".join(f"{label}：{_sentence(value)}" for label, value in d.facts)
        body = (
            f"兹证明{d.holder_name}（证件号码：{d.holder_id_masked}）：\n{stated}\n"
            f"以上情况经{d.authority}审查核实（“{d.item_name}”，事项编码 {d.item_code}），特此证明。\n"
            f"有效期：{_validity(d)}。"
        )
    else:
        body = (
            f"兹证明{d.holder_name}（证件号码：{d.holder_id_masked}）已办结“{d.item_name}”事项"
            f"（事项编码 {d.item_code}），经{d.authority}审查核实，特此证明。\n有效期：{_validity(d)}。"
        )
    c.setFont(font, 14)
    y = height - 220
    for paragraph in body.split("\n"):
        for line in _wrap("　　" + paragraph, font, 14, width - 168):
            c.drawString(84, y, line)
            y -= 26
    _signature_block(c, font, d, width, min(y - 60, 300))
    _footer(c, font, d, width)


def _approval_notice(c: Canvas, font: str, d: DocumentData, width: float, height: float) -> None:
    c.setFillColor(SEAL_RED)
    c.setFont(font, 24)
    c.drawCentredString(width / 2, height - 90, d.authority)
    c.setLineWidth(1.5)
    c.setStrokeColor(SEAL_RED)
    c.line(60, height - 106, width - 60, height - 106)
    c.setFillColor(INK)
    c.setFont(font, 20)
    c.drawCentredString(width / 2, height - 146, d.title)
    c.setFont(font, 11)
    c.drawCentredString(width / 2, height - 168, d.number)
    c.setFont(font, 14)
    y = height - 214
    c.drawString(72, y, f"{d.holder_name}：")
    y -= 30
    basis = f"依据{d.legal_basis}，" if d.legal_basis else ""
    approved = "".join(f"\n{label}：{_sentence(value)}" for label, value in d.facts)
    body = (
        f"你（单位）申请的“{d.item_name}”（办件编号 {d.case_number}），经本机关审查，符合法定条件、标准。"
        f"{basis}本机关决定予以批准。{approved}\n有效期：{_validity(d)}。"
        "\n如对本决定不服，可以依法申请行政复议或者提起行政诉讼。"
    )
    for line in _wrap("　　" + body, font, 14, width - 144):
        c.drawString(72, y, line)
        y -= 26
    _signature_block(c, font, d, width, min(y - 60, 300))
    _footer(c, font, d, width)


TEMPLATES: dict[str, Callable[[Canvas, str, DocumentData, float, float], None]] = {
    "licence": _licence,
    "certificate": _certificate,
    "approval_notice": _approval_notice,
}


def render(d: DocumentData) -> Rendered:
    """One A4 page for ``d`` with the template of its result type."""
    started = time.perf_counter()
    font, embedded, _path = cjk_font()
    draw = TEMPLATES.get(d.template)
    if draw is None:
        raise ValueError(f"no document template for result type {d.template!r}")
    buf = io.BytesIO()
    width, height = A4
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"{d.title}（{d.number}）")
    c.setAuthor(d.authority)
    c.setSubject(f"{d.item_code} {d.case_number}")
    c.setCreator("Tongban 通办")
    # The signed QR token, so software can read it without scanning the image.
    c.setKeywords(d.qr_text)
    draw(c, font, d, width, height)
    c.showPage()
    c.save()
    return Rendered(
        pdf=buf.getvalue(), font_name=font, font_embedded=embedded, ms=(time.perf_counter() - started) * 1000
    )
