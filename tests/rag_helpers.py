"""Shared pieces of the RAG tests: small files of each format built here, a deterministic embedder
for tests that are not about embeddings, and a scratch PostgreSQL database with pgvector."""

from __future__ import annotations

import getpass
import hashlib
import math
import os
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["HashEmbedder", "make_docx", "make_pdf", "scratch_database"]


class HashEmbedder:
    """Bag of words hashed into ``dimension`` buckets, normalised: texts sharing words are close.

    A stand-in for the embedding port where the model is not what is tested (stores, retrieval,
    the turn hook); the real model has its own tests."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vector[int.from_bytes(digest, "big") % self.dimension] += 1.0
            norm = math.sqrt(sum(value * value for value in vector)) or 1.0
            vectors.append([value / norm for value in vector])
        return vectors


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages: Sequence[str]) -> bytes:
    """A valid PDF with one page per item, each line of the item a line of Helvetica text."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for index, text in enumerate(pages):
        lines = " T* ".join(f"{_pdf_string(line)} Tj" for line in text.splitlines()) or "() Tj"
        stream = f"BT /F1 11 Tf 14 TL 72 760 Td {lines} ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_ids[index] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_docx(paragraphs: Sequence[tuple[str, str]]) -> bytes:
    """A minimal Word file; each item is (style id or "", text). Style "Heading1" is "heading 1"."""
    body = []
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;")
        body.append(f'<w:p>{props}<w:r><w:t xml:space="preserve">{escaped}</w:t></w:r></w:p>')
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'
        + "".join(body)
        + "</w:body></w:document>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{_W}">'
        '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>'
        "</w:styles>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"aia-docx-{uuid.uuid4().hex}.docx"
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", content_types)
            archive.writestr("word/document.xml", document)
            archive.writestr("word/styles.xml", styles)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def scratch_database() -> Iterator[Any]:
    """A psycopg2 connection to a new database with the ``vector`` extension, dropped afterwards.

    Connects to 127.0.0.1:5432 as the current user. Outside CI a machine without PostgreSQL or
    pgvector skips the test; in CI (``CI`` set) that is a failure, so the tests always run there.
    """
    psycopg2 = pytest.importorskip("psycopg2")
    params = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": int(os.environ.get("PGPORT", 5432))}
    params["user"] = os.environ.get("PGUSER", getpass.getuser())
    name = f"aia_kb_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(dbname="postgres", **params)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {params['host']}:{params['port']}: {exc}")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            if cursor.fetchone() is None:
                if os.environ.get("CI"):
                    pytest.fail("PostgreSQL has no pgvector extension (.ci/run builds it)")
                pytest.skip("PostgreSQL has no pgvector extension here")
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection = psycopg2.connect(dbname=name, **params)
        try:
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
            connection.commit()
            yield connection
        finally:
            connection.close()
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.close()
