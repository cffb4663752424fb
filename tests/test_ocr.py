"""OCR of scans (assistant/ingest/ocr.py through the PDF and image loaders): pages made at test time with a CJK font,
noise and a small rotation. The OCR model loads once per test session (one reader per model cache folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import UnreadableDocumentError
from assistant.ingest.corpus import discover
from assistant.ingest.documents import ingest_file
from assistant.ingest.load import load_document
from assistant.ingest.pages import locate_citation
from assistant.settings import load_settings
from assistant.types import Citation
from tests import makedocs
from tests.test_load import char_accuracy


def _settings(tmp_path: Path, **loading):
    return load_settings(overrides={"paths": {"corpus": str(tmp_path / "corpus"), "index": str(tmp_path / "index")},
                                    "loading": loading})


def _ingest(tmp_path: Path, name: str, make, **loading):
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    make(folder / name)
    (item,) = [f for f in discover(folder) if f.info.file == name]
    return ingest_file(item, _settings(tmp_path, **loading))


def _cite(doc, quote: str, min_confidence: float) -> Citation:
    start = doc.text.index(quote)
    bare = Citation(1, "c", doc.doc_id, doc.info.title, "", "", (), quote, start, start + len(quote))
    return locate_citation(bare, doc.info, min_confidence)


def test_mixed_pdf_pages_confidence_and_unread_page(tmp_path: Path):
    scan = makedocs.scanned_page()
    doc, chunks, _ = _ingest(tmp_path, "mixed.pdf", lambda p: makedocs.mixed_pdf(p, scan))
    assert doc.problems == ("mixed.pdf page 3: OCR found no text",)  # the blank scan is named, file and page
    assert len(doc.info.page_starts) == 3
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
    text_layer = next(c for c in chunks if "持续扩大有效投资" in c.text)
    assert (text_layer.page_start, text_layer.page_end, text_layer.ocr_confidence) == (1, 1, None)
    assert text_layer.section_path == ("二、稳定扩大投资",)
    scanned = next(c for c in chunks if "5G基站" in c.text)
    assert (scanned.page_start, scanned.page_end) == (2, 2)
    assert scanned.section_path == ("三、加快建设数字沈阳",)  # OCR text goes through the same structure parsing
    assert scanned.ocr_confidence is not None and 0.9 < scanned.ocr_confidence <= 1
    quote = "全年新建5G基站6000个以上"
    cite = _cite(doc, quote, min_confidence=0.9)
    assert doc.text[cite.start : cite.end] == quote
    assert (cite.page_start, cite.page_end, cite.low_confidence) == (2, 2, False)
    assert cite.page_offset == doc.info.page_starts[1] and doc.text[cite.page_offset :].startswith("三、加快建设数字沈阳")
    assert _cite(doc, quote, min_confidence=0.9999).low_confidence  # below the threshold: flagged
    assert _cite(doc, "持续扩大有效投资。", min_confidence=0.9999).low_confidence is False  # text layer: never


def test_image_file_is_read_by_ocr(tmp_path: Path):
    doc, chunks, _ = _ingest(tmp_path, "notice.png", lambda p: makedocs.scanned_page(angle=-1.2, seed=3).save(p))
    assert char_accuracy("".join(makedocs.SCAN_LINES), doc.text) >= 0.97
    assert doc.info.page_starts == ()  # one image: no pages
    assert all(c.page_start is None and c.ocr_confidence is not None for c in chunks)


def test_ocr_off_reports_scans(tmp_path: Path):
    scan = makedocs.scanned_page()
    with pytest.raises(UnreadableDocumentError, match=r"no text layer.*loading\.ocr"):
        _ingest(tmp_path, "scan.pdf", lambda p: makedocs.image_pdf(p, [scan]), ocr=False)
    doc, _, _ = _ingest(tmp_path, "mixed.pdf", lambda p: makedocs.mixed_pdf(p, scan), ocr=False)
    assert doc.problems == ("mixed.pdf page 2: no text layer, and OCR is off (loading.ocr)",
                            "mixed.pdf page 3: no text layer, and OCR is off (loading.ocr)")
    with pytest.raises(UnreadableDocumentError, match=r"notice\.png is an image"):
        _ingest(tmp_path, "notice.png", lambda p: scan.save(p), ocr=False)


def test_blank_scan_is_unreadable_by_name(tmp_path: Path):
    path = makedocs.image_pdf(tmp_path / "blank.pdf", [makedocs.noise_page(), makedocs.noise_page(seed=2)])
    with pytest.raises(UnreadableDocumentError, match=r"blank\.pdf: OCR found no text on page\(s\) 1, 2 of 2"):
        load_document(path)


def test_ocr_cache_stays_out_of_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    path = makedocs.image_pdf(tmp_path / "scan.pdf", [makedocs.scanned_page()])
    assert "三、加快建设数字沈阳" in load_document(path, settings).text
    assert not (tmp_path / "cache").exists()
    assert any((settings.paths.model_cache / "ocr").glob("*.onnx"))
