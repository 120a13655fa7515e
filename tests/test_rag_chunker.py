"""The chunker: sizes, overlap, headings kept, offsets and pages that point back into the source."""

from __future__ import annotations

import io

import pytest

from ai_engine.rag import Block, Chunker, estimate_tokens, extract

from .rag_helpers import make_pdf

SENTENCE = "The warehouse ships every order placed before noon on the same working day. "


def document(sections: int = 6, paragraphs: int = 8) -> str:
    parts = ["# Handbook"]
    for section in range(1, sections + 1):
        parts.append(f"## Section {section}")
        for paragraph in range(paragraphs):
            parts.append(f"Rule {section}.{paragraph}: " + SENTENCE * 5)
    return "\n\n".join(parts) + "\n"


def source_text(text: str, fmt: str = "md") -> str:
    """The document's extracted text: blocks joined by one newline (what offsets index)."""
    return "\n".join(block.text for block in extract(io.BytesIO(text.encode()), fmt))


def test_chunks_stay_within_size_and_overlap():
    chunker = Chunker(chunk_tokens=300, overlap_tokens=45)
    chunks = list(chunker.chunks(extract(io.BytesIO(document().encode()), "md")))
    assert len(chunks) > 5
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        body = chunk.text.split("\n\n", 1)[-1]
        assert estimate_tokens(body) <= 300 + 10
    # Consecutive chunks of one section share text (the overlap).
    shared = [
        before.text[-100:].split(": ")[-1][:40] in after.text
        for before, after in zip(chunks, chunks[1:], strict=False)
        if before.headings == after.headings
    ]
    assert shared and all(shared)


def test_heading_path_prefixes_each_chunk():
    chunks = list(
        Chunker(chunk_tokens=300, overlap_tokens=30).chunks(extract(io.BytesIO(document().encode()), "md"))
    )
    later = [chunk for chunk in chunks if "Rule 3.5" in chunk.text.split("\n\n", 1)[-1]]
    assert later
    assert later[0].text.startswith("Handbook > Section 3\n\n") or later[0].text.startswith("Handbook\n\n")
    assert any(chunk.headings == ("Handbook", "Section 3") for chunk in chunks)


def test_offsets_point_back_into_the_extracted_text():
    text = document(sections=3)
    extracted = source_text(text)
    for chunk in Chunker(chunk_tokens=200, overlap_tokens=20).chunks(
        extract(io.BytesIO(text.encode()), "md")
    ):
        span = extracted[chunk.start_offset : chunk.end_offset]
        body = chunk.text.split("\n\n", 1)[-1] if chunk.headings else chunk.text
        first_words = body.split()[:4]
        assert span.split()[:4] == first_words
        assert span.split()[-3:] == body.split()[-3:]


def test_sections_start_new_chunks_once_a_chunk_is_a_quarter_full():
    blocks = [
        Block("Intro", 0, heading_level=1),
        Block("word " * 120, 6),
        Block("Next", 607, heading_level=2),
        Block("other " * 10, 612),
    ]
    chunks = list(Chunker(chunk_tokens=400, overlap_tokens=40).chunks(blocks))
    assert len(chunks) == 2
    assert chunks[1].text.startswith("Intro\n\nNext\nother")


def test_a_block_without_sentence_ends_is_cut_at_spaces():
    block = Block("lorem " * 3000, 0)
    chunks = list(Chunker(chunk_tokens=200, overlap_tokens=20).chunks([block]))
    assert len(chunks) > 10
    assert all(estimate_tokens(chunk.text) <= 220 for chunk in chunks)
    assert all(not chunk.text.startswith(" ") and "lore " not in chunk.text for chunk in chunks)


def test_pdf_chunks_carry_their_pages():
    pages = [
        f"Page {number} policy.\n" + "Customers may return goods within thirty days. " * 20
        for number in range(1, 5)
    ]
    chunks = list(
        Chunker(chunk_tokens=250, overlap_tokens=25).chunks(extract(io.BytesIO(make_pdf(pages)), "pdf"))
    )
    assert chunks[0].page == 1
    assert chunks[-1].page_end == 4
    assert all(chunk.page <= chunk.page_end for chunk in chunks)


@pytest.mark.parametrize(("size", "overlap"), [(8, 0), (100, 60), (100, -1)])
def test_invalid_sizes_are_refused(size, overlap):
    with pytest.raises(ValueError):
        Chunker(chunk_tokens=size, overlap_tokens=overlap)


def test_a_chunk_is_labelled_with_the_page_its_own_text_starts_on():
    """The overlap repeated from page 1 does not make a page-2 passage cite page 1."""
    page_one = Block("Page one ends with this sentence about returns. " * 6, 0, page=1)
    page_two = Block("Page two starts here with shipping rules. " * 6, len(page_one.text) + 1, page=2)
    first, second, *_ = Chunker(chunk_tokens=80, overlap_tokens=20).chunks([page_one, page_two])
    assert (first.page, first.page_end) == (1, 1)
    assert "returns." in second.text.split("\n")[0]  # the overlap carried from page 1
    assert (second.page, second.page_end) == (2, 2)
