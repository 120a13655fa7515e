"""Text extraction that streams: a document is read block by block (a page, a paragraph, a heading),
never held in memory whole, so a 50 MB upload costs the size of one block plus the parser's state.

Formats: plain text and Markdown (line by line), HTML (lxml's event parser fed in pieces), PDF (pypdf,
page by page, its object cache emptied after each page) and DOCX (the main part's XML parsed with
``iterparse``, each paragraph dropped once read). pypdf and lxml are imported only when a file of
their format is read.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Union

_logger = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "Block",
    "EmptyDocument",
    "ExtractionError",
    "detect_format",
    "extract",
]

#: Formats read by :func:`extract`, by name.
FORMATS = ("txt", "md", "html", "pdf", "docx")

_READ_SIZE = 64 * 1024
#: A paragraph longer than this is cut into several blocks (a text without blank lines).
_MAX_BLOCK_CHARS = 8000
_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".csv": "txt",
    ".log": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
_MIMETYPES = {
    "text/plain": "txt",
    "text/csv": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# Typographic ligatures (PDF text layers keep them): searched and cited as the letters they join.
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_SPACES = re.compile(r"\s+")

Source = Union[str, os.PathLike, bytes, IO[bytes]]


class ExtractionError(Exception):
    """The file cannot be read: unsupported format, corrupt or encrypted. The message is for people."""


class EmptyDocument(ExtractionError):
    """The file was read but holds no text (e.g. a scanned PDF without a text layer)."""


@dataclass(frozen=True)
class Block:
    """A piece of a document's text, in reading order.

    Attributes:
        text: The text, whitespace-normalised (line breaks kept in plain text).
        offset: Character offset of ``text`` in the document's extracted text (blocks joined by
            one newline), for citations.
        page: 1-based page number (PDF only).
        heading_level: 1-6 when the block is a heading, 0 otherwise.
        progress: Share of the document read once this block is (0-1), when the reader knows it
            better than the bytes read (a PDF reader seeks back and forth: it counts pages).
    """

    text: str
    offset: int
    page: int | None = None
    heading_level: int = 0
    progress: float | None = None


def detect_format(filename: str = "", mimetype: str = "") -> str | None:
    """The format name for a file name or MIME type, or None when unsupported."""
    ext = os.path.splitext(filename or "")[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    return _MIMETYPES.get((mimetype or "").split(";")[0].strip().lower())


def extract(source: Source, fmt: str) -> Iterator[Block]:
    """Yield the blocks of ``source`` (a path or a binary file object) read as ``fmt``.

    Raises:
        ExtractionError: Unsupported format, corrupt or encrypted file (raised while iterating).
    """
    readers = {"txt": _text, "md": _markdown, "html": _html, "pdf": _pdf, "docx": _docx}
    if fmt not in readers:
        raise ExtractionError(f"Unsupported file format {fmt!r}; supported: {', '.join(FORMATS)}.")
    return _numbered(readers[fmt](source))


# === FORMATS === #


def _text(source: Source) -> Iterator[tuple[str, int | None, int]]:
    for paragraph in _paragraphs(_lines(source)):
        yield paragraph, None, 0


def _markdown(source: Source) -> Iterator[tuple[str, int | None, int]]:
    paragraph: list[str] = []
    in_fence = False
    for line in _lines(source):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _MD_HEADING.match(stripped)
        if heading:
            if paragraph:
                yield "\n".join(paragraph), None, 0
                paragraph = []
            yield heading.group(2), None, len(heading.group(1))
            continue
        if not stripped and not in_fence:
            if paragraph:
                yield "\n".join(paragraph), None, 0
                paragraph = []
            continue
        paragraph.append(line.rstrip())
        if sum(len(part) for part in paragraph) > _MAX_BLOCK_CHARS:
            yield "\n".join(paragraph), None, 0
            paragraph = []
    if paragraph:
        yield "\n".join(paragraph), None, 0


def _html(source: Source) -> Iterator[tuple[str, int | None, int]]:
    from lxml import etree

    target = _HtmlTarget()
    parser = etree.HTMLParser(target=target, recover=True, remove_comments=True, remove_pis=True)
    with _open(source) as stream:
        while True:
            data = stream.read(_READ_SIZE)
            if not data:
                break
            try:
                parser.feed(data)
            except etree.LxmlError as exc:
                raise ExtractionError(f"The HTML file cannot be read: {exc}") from exc
            yield from target.take()
    try:
        parser.close()
    except etree.LxmlError as exc:
        # Nothing fed at all (an empty file): lxml refuses to close an empty document.
        _logger.debug("empty HTML document: %s", exc)
    target.flush()
    yield from target.take()


def _pdf(source: Source) -> Iterator[tuple[str, int | None, int, float]]:
    import pypdf
    from pypdf.errors import PdfReadError

    with _open(source) as stream:
        try:
            reader = pypdf.PdfReader(stream)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ExtractionError("The PDF is encrypted with a password; upload an unprotected copy.")
            pages = len(reader.pages)
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ExtractionError(f"The PDF file cannot be read: {exc}") from exc
        except Exception as exc:  # pypdf raises many types on a broken file
            if isinstance(exc, ExtractionError):
                raise
            raise ExtractionError(f"The PDF file cannot be read: {type(exc).__name__}: {exc}") from exc
        for number in range(pages):
            try:
                text = reader.pages[number].extract_text() or ""
            except Exception as exc:  # same: any failure is a corrupt page
                raise ExtractionError(
                    f"Page {number + 1} of the PDF cannot be read: {type(exc).__name__}: {exc}"
                ) from exc
            # pypdf keeps every object it resolved; a page's content is not needed once read.
            cache = getattr(reader, "resolved_objects", None)
            if isinstance(cache, dict):
                cache.clear()
            for paragraph in _paragraphs(text.splitlines()):
                yield paragraph, number + 1, 0, (number + 1) / pages


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx(source: Source) -> Iterator[tuple[str, int | None, int]]:
    from lxml import etree

    with _open(source) as stream:
        try:
            archive = zipfile.ZipFile(stream)
            names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ExtractionError(f"The DOCX file cannot be read (not a valid Word file): {exc}") from exc
        if "word/document.xml" not in names:
            raise ExtractionError("The DOCX file has no document part (word/document.xml).")
        levels = _docx_heading_styles(archive, etree) if "word/styles.xml" in names else {}
        try:
            with archive.open("word/document.xml") as part:
                for _event, para in etree.iterparse(part, events=("end",), tag=f"{_W}p", huge_tree=True):
                    text = _docx_paragraph_text(para)
                    level = _docx_level(para, levels)
                    # Free what was read: the paragraph and the siblings before it.
                    para.clear()
                    while para.getprevious() is not None:
                        del para.getparent()[0]
                    if text.strip():
                        yield text.strip(), None, level
        except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ExtractionError(f"The DOCX file is corrupt: {exc}") from exc


def _docx_heading_styles(archive: zipfile.ZipFile, etree: Any) -> dict[str, int]:
    """Style id -> heading level, from the (small) styles part."""
    levels: dict[str, int] = {}
    try:
        root = etree.fromstring(archive.read("word/styles.xml"))
    except (etree.XMLSyntaxError, zipfile.BadZipFile, KeyError):
        return levels
    for style in root.iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId") or ""
        name_el = style.find(f"{_W}name")
        name = (name_el.get(f"{_W}val") if name_el is not None else "") or style_id
        match = re.fullmatch(r"heading\s*([1-6])", name.strip().lower())
        if match:
            levels[style_id] = int(match.group(1))
        elif name.strip().lower() == "title":
            levels[style_id] = 1
    return levels


def _docx_level(para: Any, levels: dict[str, int]) -> int:
    props = para.find(f"{_W}pPr")
    if props is None:
        return 0
    style = props.find(f"{_W}pStyle")
    if style is not None and style.get(f"{_W}val") in levels:
        return levels[style.get(f"{_W}val")]
    outline = props.find(f"{_W}outlineLvl")
    if outline is not None and (outline.get(f"{_W}val") or "").isdigit():
        return min(int(outline.get(f"{_W}val")) + 1, 6)
    return 0


def _docx_paragraph_text(para: Any) -> str:
    parts = []
    for node in para.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


# === HELPERS === #

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure "
    "footer form header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul".split()
)
_SKIP_TAGS = frozenset("script style noscript template head svg math select option button".split())
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Inline elements whose neighbours are separate words even when the markup has no space between
# them (a menu of links: <a>Home</a><a>Prices</a>).
_WORD_TAGS = frozenset("a label img".split())


class _HtmlTarget:
    """lxml parser target: receives tags and text in document order, builds no tree."""

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._size = 0
        self._skip = 0
        self._pre = 0
        self._heading = 0
        self._gap = False
        self._ready: list[tuple[str, int | None, int]] = []

    def start(self, tag: str, attrib: Any) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _HEADINGS:
            self.flush()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCK_TAGS or tag == "br":
            self.flush()
            if tag == "pre":
                self._pre += 1
        elif tag in _WORD_TAGS:
            self._separate()

    def end(self, tag: str) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS:
            self.flush()
            self._heading = 0
        elif tag in _BLOCK_TAGS:
            self.flush()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _WORD_TAGS:
            self._separate()

    def _separate(self) -> None:
        # A space before the next word, not before punctuation: "Open <a>daily</a>." stays.
        self._gap = bool(self._buffer)

    def data(self, text: str) -> None:
        if self._skip:
            return
        if self._gap and text[:1].isalnum() and not self._buffer[-1][-1:].isspace():
            self._buffer.append(" ")
        self._gap = False
        self._buffer.append(text)
        self._size += len(text)
        if self._size > _MAX_BLOCK_CHARS and not self._heading:
            self.flush()

    def comment(self, text: str) -> None:
        pass

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer, self._size, self._gap = [], 0, False
        text = raw.strip("\n") if self._pre else _SPACES.sub(" ", raw).strip()
        if text.strip():
            self._ready.append((text, None, self._heading))

    def take(self) -> list[tuple[str, int | None, int]]:
        ready, self._ready = self._ready, []
        return ready


class _open:
    """Context manager: a path is opened (and closed), a file object is used as it is."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.source, (str, os.PathLike)):
            try:
                self._owned = open(self.source, "rb")  # closed in __exit__
            except OSError as exc:
                raise ExtractionError(f"The file cannot be opened: {exc}") from exc
            return self._owned
        if isinstance(self.source, (bytes, bytearray)):
            self._owned = io.BytesIO(self.source)
            return self._owned
        return self.source

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()


def _lines(source: Source) -> Iterator[str]:
    """Decode a text file incrementally (UTF-8, else Windows-1252), line by line."""
    with _open(source) as stream:
        head = stream.read(_READ_SIZE)
        if b"\x00" in head[:8192]:
            raise ExtractionError("The file is not a text file (it contains binary data).")
        encoding = "utf-8-sig"
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the first read is still UTF-8.
            if exc.start < len(head) - 4:
                encoding = "cp1252"
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = ""
        data = head
        while data:
            pending += decoder.decode(data)
            *complete, pending = pending.split("\n")
            yield from complete
            while len(pending) > _MAX_BLOCK_CHARS:
                # A text without line breaks: cut at a space so memory stays bounded.
                cut = pending.rfind(" ", 0, _MAX_BLOCK_CHARS) + 1 or _MAX_BLOCK_CHARS
                yield pending[:cut]
                pending = pending[cut:]
            data = stream.read(_READ_SIZE)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending


def _paragraphs(lines: Iterator[str] | list[str]) -> Iterator[str]:
    paragraph: list[str] = []
    size = 0
    for line in lines:
        stripped = line.rstrip()
        if not stripped.strip():
            if paragraph:
                yield "\n".join(paragraph)
                paragraph, size = [], 0
            continue
        paragraph.append(stripped)
        size += len(stripped)
        if size > _MAX_BLOCK_CHARS:
            yield "\n".join(paragraph)
            paragraph, size = [], 0
    if paragraph:
        yield "\n".join(paragraph)


def _numbered(items: Iterator[tuple[Any, ...]]) -> Iterator[Block]:
    offset = 0
    for text, page, level, *progress in items:
        text = text.translate(_LIGATURES)
        yield Block(text, offset, page, level, progress[0] if progress else None)
        offset += len(text) + 1
