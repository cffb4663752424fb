"""Uploads: sanitized names, type and size limits, incremental indexing, removal."""

from pathlib import Path

import pytest

from assistant.errors import DocumentError, UnsupportedFileTypeError
from assistant.ingest.uploads import sanitize_filename, store_upload
from assistant.pipeline import Assistant

from .conftest import make_settings


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../etc/政府 工作报告(2024).TXT", "政府_工作报告_2024.txt"),
        ("..\\..\\a.md", "a.md"),
        (".hidden.pdf", "hidden.pdf"),
        ("报告.docx", "报告.docx"),
    ],
)
def test_sanitize_filename(name, expected):
    assert sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["a.exe", "a", "a.txt.sh", "a.xlsx", "", "...txt"])
def test_rejected_types(name):
    with pytest.raises(UnsupportedFileTypeError):
        sanitize_filename(name)


def test_store_upload_limits_and_unique_names(tmp_path: Path):
    with pytest.raises(DocumentError, match="empty"):
        store_upload(tmp_path, "a.txt", b"", 100)
    with pytest.raises(DocumentError, match="limit"):
        store_upload(tmp_path, "a.txt", b"x" * 101, 100)
    first = store_upload(tmp_path, "a.txt", "沈阳".encode(), 100)
    second = store_upload(tmp_path, "a.txt", "大连".encode(), 100)
    assert first.name == "a.txt" and second.name == "a-2.txt"
    assert all(p.parent == tmp_path for p in (first, second))


def test_upload_is_indexed_searchable_and_removable(tmp_path: Path, small_corpus: Path):
    settings = make_settings(tmp_path, small_corpus, paths={"uploads": str(small_corpus / "uploads")})
    assistant = Assistant(settings)
    assistant.build()
    before = len(assistant.documents())
    text = "关于智慧灯杆建设的通知\n\n第一章 总则\n\n全市新建智慧灯杆八千八百根,2025年前完成。"
    info = assistant.add_document("../灯杆 通知.txt", text.encode("utf-8"))
    assert info.title == "关于智慧灯杆建设的通知" and info.file == "uploads/灯杆_通知.txt"
    docs = {d["doc_id"]: d for d in assistant.documents()}
    assert len(docs) == before + 1 and docs[info.doc_id]["removable"] and docs[info.doc_id]["chunks"] >= 1
    hit = assistant.search("新建智慧灯杆多少根", k=1, mode="bm25")[0]
    assert hit.chunk.doc_id == info.doc_id and hit.chunk.section_path[-1] == "第一章 总则"
    with pytest.raises(DocumentError, match="official document"):
        assistant.remove_document("shenyang-2021-ten-tasks")
    assistant.remove_document(info.doc_id)
    assert info.doc_id not in {d["doc_id"] for d in assistant.documents()}
    assert not (small_corpus / "uploads" / "灯杆_通知.txt").exists()


def test_unreadable_upload_is_not_kept(tmp_path: Path, small_corpus: Path):
    settings = make_settings(tmp_path, small_corpus, paths={"uploads": str(small_corpus / "uploads")})
    assistant = Assistant(settings)
    with pytest.raises(DocumentError):
        assistant.add_document("scan.docx", b"PK\x03\x04 not really a docx")
    assert not list((small_corpus / "uploads").glob("*.docx"))
