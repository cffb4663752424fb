"""Load, images: a photo or scan of a document (.png/.jpg/.tif) read by OCR; each frame of a TIFF is a page."""

from __future__ import annotations

import io
from pathlib import Path

from ...errors import UnreadableDocumentError
from ...types import LoadedText
from ..ocr import OcrReader
from .blocks import Blocks
from .layout import Piece, drop_running_lines, page_lines, paragraphs


def read_image(data: bytes, path: Path, ocr: OcrReader | None) -> LoadedText:
    """Read the text of an image file by OCR.

    Args:
        data: The file's bytes.
        path: The file (named in messages).
        ocr: The OCR reader; ``None`` (OCR turned off) refuses the file.

    Returns:
        The text with OCR marks; a multi-page TIFF also has page starts, a single image has none.

    Raises:
        UnreadableDocumentError: The image is damaged, OCR is off, or OCR finds no text.
    """
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    if ocr is None:
        raise UnreadableDocumentError(f"{path} is an image: it can only be read with OCR, which is off (loading.ocr).")
    try:
        image = Image.open(io.BytesIO(data))
        frames = [ImageOps.exif_transpose(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableDocumentError(f"{path} is not a readable image ({exc}). Re-save it as PNG or JPEG.") from exc
    pages, heights = [], []
    for frame in frames:
        lines = ocr.read(frame)
        pages.append(page_lines([Piece(x.text, x.x0, x.y0, x.x1, x.y1, x.confidence) for x in lines]))
        heights.append(frame.height)
    blocks = Blocks()
    unread = []
    for number, lines in enumerate(drop_running_lines(pages, heights) if len(pages) > 1 else pages, start=1):
        if len(pages) > 1:
            blocks.page()
        if not lines:
            unread.append(number)
        for i, paragraph in enumerate(paragraphs(lines)):
            blocks.add(paragraph.text, sep="\n\n" if i == 0 else "\n", confidence=paragraph.confidence)
    if len(unread) == len(pages):
        raise UnreadableDocumentError(f"{path}: OCR found no text in the image. Use a sharper scan (300 dpi or more).")
    blocks.problems += [f"{path.name} page {n}: OCR found no text" for n in unread]
    return blocks.build()
