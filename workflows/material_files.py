"""Reading a material's stored file back, checked against its digest, and the watermarked preview.

The preview is a raster image (PNG) for PDFs and images alike: the watermark is burnt into the
pixels, so it cannot be removed by deleting an annotation or a PDF layer, and nothing active in an
uploaded PDF (scripts, forms, links) reaches the viewer's browser.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

# Previews are for reading on a workbench screen, not for printing: the longer side is capped.
PREVIEW_MAX_SIDE = 1600
PDF_RENDER_SCALE = 1.5  # 108 dpi: legible scans, small PNGs
# A crafted file must not make the server allocate gigabytes: an image that decodes to more pixels
# than this (Pillow's own bomb limit is ~179 M) and a PDF page larger than this on its longer side
# after scaling are refused or scaled down.
MAX_SOURCE_PIXELS = 40_000_000
MAX_RENDER_SIDE = 2400

DEFAULT_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
]


class MaterialUnavailable(Exception):
    """The stored file is gone or unreadable (refused; the view log says so)."""


class MaterialTampered(Exception):
    """The stored file's SHA-256 differs from the digest recorded when it was submitted."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"sha256 mismatch: recorded {expected}, stored file {actual}")
        self.expected = expected
        self.actual = actual


class PreviewUnavailable(Exception):
    """The file is intact but cannot be rendered (a damaged image, a page number out of range)."""


def read_checked(material: Any) -> bytes:
    """The stored bytes of ``material`` after re-computing their SHA-256 against the recorded one.

    Raises MaterialUnavailable (no file, unreadable) or MaterialTampered (digest differs)."""
    if not material.file:
        raise MaterialUnavailable("no stored file")
    try:
        with material.file.storage.open(material.file.name, "rb") as fh:
            data: bytes = fh.read()
    except OSError as exc:
        raise MaterialUnavailable(str(exc)) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != material.sha256:
        raise MaterialTampered(material.sha256, actual)
    return data


@lru_cache(maxsize=1)
def _font_path() -> str:
    for path in [*getattr(settings, "MATERIAL_WATERMARK_FONTS", []), *DEFAULT_FONTS]:
        if path and Path(path).is_file():
            return str(path)
    return ""


def _font(size: int) -> Any:
    from PIL import ImageFont

    path = _font_path()
    if path:
        return ImageFont.truetype(path, size=size)
    # No CJK font on this machine: Pillow's own font still prints the case number, the viewer's
    # account and the time; only the Chinese words would be missing.
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Preview:
    png: bytes
    page: int
    pages: int


def _page_image(data: bytes, content_type: str, page: int) -> tuple[Any, int]:
    from PIL import Image, UnidentifiedImageError

    if content_type == "application/pdf":
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise PreviewUnavailable(str(exc)) from exc
        try:
            pages = len(pdf)
            if not 1 <= page <= pages:
                raise PreviewUnavailable(f"page {page} of {pages}")
            pdf_page = pdf[page - 1]
            width, height = pdf_page.get_size()
            # A page may declare any size (up to 14,400 pt a side): cap the bitmap, not just the scale.
            scale = min(PDF_RENDER_SCALE, MAX_RENDER_SIDE / max(width, height, 1.0))
            image = pdf_page.render(scale=scale).to_pil()
        finally:
            pdf.close()
        return image, pages
    if page != 1:
        raise PreviewUnavailable(f"page {page} of 1")
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_SOURCE_PIXELS:
            raise PreviewUnavailable(f"{image.width}x{image.height} pixels")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PreviewUnavailable(str(exc)) from exc
    return image, 1


def watermarked_preview(data: bytes, content_type: str, lines: list[str], *, page: int = 1) -> Preview:
    """A PNG of ``page`` of the file with ``lines`` tiled diagonally across it and printed in a band
    along the bottom (legible on any crop of the screenshot)."""
    from PIL import Image, ImageDraw

    image, pages = _page_image(data, content_type, page)
    image = image.convert("RGB")
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    width, height = image.size
    size = max(14, min(width, height) // 28)
    font = _font(size)
    text = "  ".join(lines)

    # Tiled diagonal text on a transparent layer, rotated and composited at reduced opacity.
    diagonal = int(math.hypot(width, height)) + size * 4
    layer = Image.new("RGBA", (diagonal, diagonal), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step_y = size * 5
    tile = text + "      "
    tile_w = max(1, int(draw.textlength(tile, font=font)))
    for row, y in enumerate(range(0, diagonal, step_y)):
        offset = (row % 2) * tile_w // 2
        for x in range(-offset, diagonal, tile_w):
            draw.text((x, y), tile, font=font, fill=(200, 0, 0, 70))
    layer = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    left = (diagonal - width) // 2
    top = (diagonal - height) // 2
    layer = layer.crop((left, top, left + width, top + height))
    base = image.convert("RGBA")
    base.alpha_composite(layer)

    # The same lines, plainly, in a band at the bottom.
    band = ImageDraw.Draw(base)
    band_h = size * len(lines) + size
    band.rectangle((0, height - band_h, width, height), fill=(255, 255, 255, 230))
    for i, line in enumerate(lines):
        band.text((size // 2, height - band_h + size // 2 + i * size), line, font=font, fill=(160, 0, 0, 255))

    out = io.BytesIO()
    base.convert("RGB").save(out, format="PNG", optimize=True)
    return Preview(png=out.getvalue(), page=page, pages=pages)
