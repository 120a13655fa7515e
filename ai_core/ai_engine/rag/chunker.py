"""Chunking: blocks in, overlapping chunks out, with the heading path and source offsets kept.

A chunk is built from whole blocks (paragraphs) where they fit; a longer block is cut at sentence
ends, then at spaces. A chunk closes at a new heading when it is already a quarter full, so
sections stay apart without leaving crumbs. Each chunk starts with the path of the headings it
sits under ("Guide > Install"), so a passage read alone still says what it is about, and carries
the offsets (and PDF page) of the text it covers for citations. It consumes its input lazily.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .extract import Block

__all__ = ["Chunk", "Chunker", "estimate_tokens"]

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (about four characters a token for European languages)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(frozen=True)
class Chunk:
    """A passage to embed and cite.

    Attributes:
        index: 0-based position in the document.
        text: Heading path (if any), a blank line, then the passage.
        start_offset: Offset of the passage's first character in the document's extracted text.
        end_offset: Offset just past its last character.
        page: Page where the passage's own text starts (PDF), else None: the overlap repeated
            from the previous chunk does not count, a citation names where the new text is.
        page_end: Page of its last character (PDF), else None.
        headings: The heading path the passage starts under.
        tokens: Estimated tokens of ``text``.
    """

    index: int
    text: str
    start_offset: int
    end_offset: int
    page: int | None = None
    page_end: int | None = None
    headings: tuple[str, ...] = ()
    tokens: int = 0


@dataclass(frozen=True)
class _Piece:
    text: str
    offset: int
    page: int | None
    block: int
    tokens: int
    heading: bool = False
    #: Repeated from the previous chunk as overlap.
    carried: bool = False


class Chunker:
    """Cuts blocks into chunks of about ``chunk_tokens`` with ``overlap_tokens`` of overlap.

    Args:
        chunk_tokens: Target size of a chunk's passage.
        overlap_tokens: Tokens of the end of a chunk repeated at the start of the next one.
        count_tokens: Token counter (default: :func:`estimate_tokens`; pass a model's tokenizer
            for exact counts).
    """

    def __init__(
        self,
        chunk_tokens: int = 800,
        overlap_tokens: int = 120,
        count_tokens: Callable[[str], int] = estimate_tokens,
    ) -> None:
        if chunk_tokens < 16:
            raise ValueError("chunk_tokens must be at least 16")
        if not 0 <= overlap_tokens < chunk_tokens // 2:
            raise ValueError("overlap_tokens must be between 0 and half of chunk_tokens")
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.count_tokens = count_tokens

    def chunks(self, blocks: Iterable[Block]) -> Iterator[Chunk]:
        """Yield the chunks of ``blocks`` in order."""
        path: list[tuple[int, str]] = []
        current: list[_Piece] = []
        start_path: tuple[str, ...] = ()
        size = 0
        index = 0
        for number, block in enumerate(blocks):
            if block.heading_level:
                if current and size >= self.chunk_tokens // 4:
                    yield self._chunk(index, current, start_path)
                    index += 1
                    current, size = [], 0
                while path and path[-1][0] >= block.heading_level:
                    path.pop()
                heading = _Piece(
                    block.text, block.offset, block.page, number, self.count_tokens(block.text), True
                )
                if not current:
                    start_path = tuple(text for _level, text in path)
                path.append((block.heading_level, block.text))
                current.append(heading)
                size += heading.tokens
                continue
            for piece in self._pieces(block, number):
                if current and size + piece.tokens > self.chunk_tokens:
                    yield self._chunk(index, current, start_path)
                    index += 1
                    current = self._overlap(current)
                    size = sum(item.tokens for item in current)
                    start_path = tuple(text for _level, text in path)
                if not current:
                    start_path = tuple(text for _level, text in path)
                current.append(piece)
                size += piece.tokens
        if current and any(not piece.heading for piece in current):
            yield self._chunk(index, current, start_path)

    # === HELPERS === #

    def _pieces(self, block: Block, number: int) -> Iterator[_Piece]:
        tokens = self.count_tokens(block.text)
        if tokens <= self.chunk_tokens:
            yield _Piece(block.text, block.offset, block.page, number, tokens)
            return
        position = 0
        for sentence in _SENTENCE_END.split(block.text):
            start = block.text.find(sentence, position)
            position = start + len(sentence)
            sentence_tokens = self.count_tokens(sentence)
            if sentence_tokens <= self.chunk_tokens:
                yield _Piece(sentence, block.offset + start, block.page, number, sentence_tokens)
                continue
            yield from self._words(sentence, block.offset + start, block.page, number)

    def _words(self, text: str, offset: int, page: int | None, number: int) -> Iterator[_Piece]:
        # No sentence end within a chunk's size: cut at spaces, near the target size.
        target = max(1, len(text) * self.chunk_tokens // max(self.count_tokens(text), 1))
        start = 0
        while start < len(text):
            end = min(len(text), start + target)
            if end < len(text):
                space = text.rfind(" ", start + target // 2, end)
                end = space + 1 if space > start else end
            part = text[start:end].strip()
            if part:
                first = start + (len(text[start:end]) - len(text[start:end].lstrip()))
                yield _Piece(part, offset + first, page, number, self.count_tokens(part))
            start = end

    def _overlap(self, pieces: list[_Piece]) -> list[_Piece]:
        if not self.overlap_tokens:
            return []
        kept: list[_Piece] = []
        size = 0
        for piece in reversed(pieces):
            if piece.heading or size + piece.tokens > self.overlap_tokens:
                break
            kept.insert(0, piece)
            size += piece.tokens
        if kept or pieces[-1].heading:
            return [dataclasses.replace(piece, carried=True) for piece in kept]
        # The last piece alone is longer than the overlap: repeat its tail from a word start.
        last = pieces[-1]
        cut = max(0, len(last.text) - len(last.text) * self.overlap_tokens // max(last.tokens, 1))
        space = last.text.find(" ", cut)
        cut = space + 1 if 0 <= space < len(last.text) - 1 else cut
        tail = last.text[cut:]
        if not tail.strip():
            return []
        return [_Piece(tail, last.offset + cut, last.page, last.block, self.count_tokens(tail), carried=True)]

    def _chunk(self, index: int, pieces: list[_Piece], path: tuple[str, ...]) -> Chunk:
        parts = [pieces[0].text]
        for before, piece in zip(pieces, pieces[1:], strict=False):
            parts.append(("\n" if piece.block != before.block or before.heading else " ") + piece.text)
        body = "".join(parts)
        text = f"{' > '.join(path)}\n\n{body}" if path else body
        pages = [piece.page for piece in pieces if piece.page is not None]
        own_pages = [piece.page for piece in pieces if piece.page is not None and not piece.carried]
        return Chunk(
            index=index,
            text=text,
            start_offset=pieces[0].offset,
            end_offset=pieces[-1].offset + len(pieces[-1].text),
            page=(own_pages or pages or [None])[0],
            page_end=pages[-1] if pages else None,
            headings=path,
            tokens=self.count_tokens(text),
        )
