"""Extraction of each format, bad input, and the memory bound on large files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ai_engine.rag import Chunker, EmptyDocument, ExtractionError, detect_format, extract, index_blocks
from ai_engine.rag.stores import QdrantStore

from .rag_helpers import HashEmbedder, make_docx, make_pdf

AI_CORE = Path(__file__).resolve().parents[1] / "ai_core"


def blocks(data: bytes | str, fmt: str):
    raw = data.encode() if isinstance(data, str) else data
    return list(extract(io.BytesIO(raw), fmt))


def outline(data: bytes | str, fmt: str) -> list[tuple[int, str]]:
    """The extracted blocks as (heading level, text): 0 for a paragraph."""
    return [(block.heading_level, block.text) for block in blocks(data, fmt)]


def test_detect_format_by_extension_then_mimetype():
    assert detect_format("Guide.PDF") == "pdf"
    assert detect_format("notes.md") == "md"
    assert detect_format("page", "text/html; charset=utf-8") == "html"
    assert detect_format("x.docx") == "docx"
    assert detect_format("archive.zip", "application/zip") is None


def test_plain_text_paragraphs_and_offsets():
    text = "First paragraph\nstill first.\n\nSecond one.\n"
    result = blocks(text, "txt")
    assert [block.text for block in result] == ["First paragraph\nstill first.", "Second one."]
    assert [block.offset for block in result] == [0, len("First paragraph\nstill first.") + 1]


def test_text_in_windows_1252_is_decoded():
    result = blocks("Caf\xe9 cr\xe8me".encode("cp1252"), "txt")
    assert result[0].text == "Café crème"


def test_markdown_headings_and_fenced_code():
    text = "# Guide\n\nIntro.\n\n## Install\n\n```\n# not a heading\n```\n\nRun it.\n"
    assert outline(text, "md") == [
        (1, "Guide"),
        (0, "Intro."),
        (2, "Install"),
        (0, "```\n# not a heading\n```"),
        (0, "Run it."),
    ]


def test_html_keeps_headings_drops_scripts_and_decodes_entities():
    html = """<html><head><title>T</title><style>p {color: red}</style></head><body>
    <h1>Returns &amp; refunds</h1><p>Goods may be returned
       within <b>30 days</b>.</p><script>alert("x")</script>
    <ul><li>Keep the receipt</li><li>Use the box</li></ul></body></html>"""
    assert outline(html, "html") == [
        (1, "Returns & refunds"),
        (0, "Goods may be returned within 30 days."),
        (0, "Keep the receipt"),
        (0, "Use the box"),
    ]


def test_pdf_pages_are_numbered():
    data = make_pdf(["Warranty terms\nTwo years on parts.", "Shipping\nFree above 50 EUR."])
    result = blocks(data, "pdf")
    assert [block.page for block in result] == [1, 2]
    assert "Two years on parts." in result[0].text
    assert "Free above 50 EUR." in result[1].text


def test_docx_headings_from_styles():
    data = make_docx(
        [("Heading1", "Onboarding"), ("", "Badge at the desk."), ("Heading2", "IT"), ("", "Laptop.")]
    )
    assert outline(data, "docx") == [
        (1, "Onboarding"),
        (0, "Badge at the desk."),
        (2, "IT"),
        (0, "Laptop."),
    ]


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"%PDF-1.4\nthis is not really a pdf", "pdf", "PDF"),
        (b"PK\x03\x04 broken zip", "docx", "DOCX"),
        (b"\x00\x01\x02binary\x00", "txt", "not a text file"),
        (b"anything", "xlsx", "Unsupported"),
    ],
)
def test_corrupt_or_unsupported_files_raise_a_clear_error(data, fmt, message):
    with pytest.raises(ExtractionError, match=message):
        blocks(data, fmt)


def test_empty_document_is_refused():
    store = QdrantStore(path=":memory:")
    with pytest.raises(EmptyDocument, match="no text"):
        index_blocks(
            extract(io.BytesIO(b"  \n\n \t\n"), "txt"),
            company_id=1,
            knowledge_base_id=1,
            document_id=1,
            document_name="empty.txt",
            chunker=Chunker(),
            embedder=HashEmbedder(),
            store=store,
        )


_MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from ai_engine.rag import Chunker, extract
    path, fmt = sys.argv[1], sys.argv[2]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    chunks = chars = 0
    for chunk in Chunker().chunks(extract(path, fmt)):
        chunks += 1
        chars += len(chunk.text)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"chunks": chunks, "chars": chars, "grown_kib": after - before}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_50_mb_file_is_streamed_not_loaded(tmp_path, fmt):
    path = tmp_path / f"big.{fmt}"
    paragraph = (
        "Each section explains one rule of the handbook in plain words, so that readers find it. " * 6
    ).strip()
    with path.open("w", encoding="utf-8") as handle:
        section = 0
        while handle.tell() < 50 * 1024 * 1024:
            section += 1
            if fmt == "md":
                handle.write(f"## Section {section}\n\n{paragraph}\n\n{paragraph}\n\n")
            else:
                handle.write(f"<h2>Section {section}</h2><p>{paragraph}</p><p>{paragraph}</p>\n")
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), fmt],
        cwd=AI_CORE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["chars"] > 45 * 1024 * 1024
    # Whole-file reading would grow the process by the file's size at least (50 MB of text).
    assert result["grown_kib"] < 25 * 1024, result


def test_ligatures_are_read_as_the_letters_they_join():
    result = blocks("The e\ufb04uent \ufb02ow is o\ufb00 the \ufb01eld.", "txt")
    assert result[0].text == "The effluent flow is off the field."


def test_links_of_a_menu_stay_separate_words():
    html = '<nav><a href="/">Home</a><a href="/p">Prices</a><a>Contact</a></nav><p>Open <a>daily</a>.</p>'
    assert [block.text for block in blocks(html, "html")] == ["Home Prices Contact", "Open daily."]


def test_pdf_blocks_tell_how_much_of_the_document_is_read():
    data = make_pdf([f"Page {number}\nSome text of page {number}." for number in range(1, 5)])
    result = blocks(data, "pdf")
    assert [block.progress for block in result] == [0.25, 0.5, 0.75, 1.0]
    assert all(block.progress is None for block in blocks("a\n\nb", "txt"))
