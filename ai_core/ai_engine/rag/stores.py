"""Vector stores behind the :class:`~ai_engine.ports.VectorStore` port.

- :class:`QdrantStore`: a Qdrant server by URL, or qdrant-client's embedded local mode (a folder, or
  ``:memory:``). qdrant-client is imported when a store is built.
- :class:`PgVectorStore`: a table per vector dimension in a PostgreSQL database with the ``vector``
  extension, used through a DB-API cursor the caller owns (in Odoo: the request's or the job's
  cursor, so vectors are written and rolled back with the rest of the transaction).

Vectors are normalised by the embedder, so the inner product is the cosine similarity and scores
are in [-1, 1], higher is closer, for every store.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from ..ports import IndexedChunk, RetrievedChunk, check_scope

__all__ = ["PgVectorStore", "QdrantStore", "VectorStoreError", "close_local_store", "pgvector_status"]

_POINT_NAMESPACE = uuid.UUID("6f1c3a52-9b7e-4d0e-8a36-2a5f1b7c9e41")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class VectorStoreError(Exception):
    """The store cannot be used as configured; the message says what to do."""


def _retrieved(payload: dict[str, Any], score: float) -> RetrievedChunk:
    return RetrievedChunk(
        text=payload.get("text") or "",
        score=float(score),
        document_id=int(payload["document_id"]),
        document_name=payload.get("document_name") or "",
        chunk_id=f"{payload['document_id']}-{payload['chunk_index']}",
        page=payload.get("page"),
        start_offset=payload.get("start_offset"),
        end_offset=payload.get("end_offset"),
        metadata={
            "headings": list(payload.get("headings") or ()),
            "page_end": payload.get("page_end"),
            "generation": payload.get("generation") or "",
        },
        knowledge_base_id=int(payload["knowledge_base_id"]),
    )


def _payload(chunk: IndexedChunk) -> dict[str, Any]:
    return {
        "company_id": chunk.company_id,
        "knowledge_base_id": chunk.knowledge_base_id,
        "document_id": chunk.document_id,
        "chunk_index": chunk.chunk_index,
        "document_name": chunk.document_name,
        "text": chunk.text,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "start_offset": chunk.start_offset,
        "end_offset": chunk.end_offset,
        "headings": list(chunk.headings),
        "generation": chunk.generation,
    }


# === QDRANT === #

_local_clients: dict[str, Any] = {}
_local_lock = threading.Lock()


def _local_client(path: str) -> Any:
    """One client per folder and process: local mode locks its folder, a second client would fail."""
    from qdrant_client import QdrantClient

    if path == ":memory:":
        return QdrantClient(location=":memory:")
    with _local_lock:
        if path not in _local_clients:
            try:
                _local_clients[path] = QdrantClient(path=path)
            except (RuntimeError, OSError) as exc:
                raise VectorStoreError(
                    f"The local Qdrant folder {path} is in use by another process (local mode allows "
                    "one process: with several Odoo workers use pgvector or a Qdrant server)."
                ) from exc
        return _local_clients[path]


def close_local_store(path: str) -> None:
    """Close this process's client of the local folder ``path`` (before the folder is removed)."""
    with _local_lock:
        client = _local_clients.pop(path, None)
    if client is not None:
        client.close()


class QdrantStore:
    """Qdrant, by server URL or embedded.

    Two layouts:
      - ``shared`` (default for a server): one collection per vector dimension,
        ``<prefix>_d<dim>``, with indexed ``company_id`` and ``knowledge_base_id`` payload fields;
        every search carries a filter on both, evaluated by the server's index.
      - ``per_base`` (default for local mode): one collection per company, knowledge base and
        dimension, ``<prefix>_c<company>_kb<base>_d<dim>``. Local mode evaluates payload filters
        in Python for every point (hundreds of ms at 10 k points); naming the collection from the
        company and the base scopes the search with no filter at all, and each hit's payload is
        still checked against the scope.

    Args:
        client: A ready ``QdrantClient`` (else one is built from ``url`` or ``path``).
        url: Qdrant server URL.
        api_key: Qdrant server API key.
        path: Local mode folder, or ``:memory:``.
        prefix: Collection name prefix; give each Odoo database its own on a shared server.
        layout: ``shared`` or ``per_base`` (default: ``per_base`` in local mode, else ``shared``).
        timeout: Server request timeout in seconds.
    """

    #: The store's name in traces.
    kind = "qdrant"

    def __init__(
        self,
        client: Any = None,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        prefix: str = "aia",
        layout: Literal["shared", "per_base"] | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not _NAME.match(prefix):
            raise ValueError(f"invalid collection prefix {prefix!r}")
        local = path is not None
        if client is None:
            if url:
                from qdrant_client import QdrantClient

                client = QdrantClient(url=url, api_key=api_key or None, timeout=int(timeout))
            elif path:
                client = _local_client(path)
            else:
                raise ValueError("QdrantStore needs a client, a url or a path")
        self.client = client
        self.local = local or type(getattr(client, "_client", None)).__name__ == "QdrantLocal"
        self.prefix = prefix
        self.layout = layout or ("per_base" if self.local else "shared")
        self._known: set[str] = set()

    # === PORT === #

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        from qdrant_client import models

        groups: dict[str, list[Any]] = {}
        for chunk in chunks:
            check_scope(chunk.company_id, [chunk.knowledge_base_id])
            name = self._collection(chunk.company_id, chunk.knowledge_base_id, len(chunk.vector))
            key = ":".join(
                map(str, (chunk.company_id, chunk.knowledge_base_id, chunk.document_id, chunk.generation))
            )
            key += f":{chunk.chunk_index}"
            point = models.PointStruct(
                id=str(uuid.uuid5(_POINT_NAMESPACE, key)), vector=list(chunk.vector), payload=_payload(chunk)
            )
            groups.setdefault(name, []).append(point)
        for name, points in groups.items():
            self._ensure(name, len(points[0].vector))
            self.client.upsert(name, points=points, wait=True)

    def delete_document(
        self,
        *,
        company_id: int,
        knowledge_base_id: int,
        document_id: int,
        generation: str | None = None,
        keep_generation: str | None = None,
    ) -> None:
        """Delete the document's vectors: all, one ``generation``'s, or all but ``keep_generation``'s."""
        from qdrant_client import models

        check_scope(company_id, [knowledge_base_id])
        flt = self._filter(company_id, [knowledge_base_id], document_id)
        if generation is not None:
            flt.must.append(
                models.FieldCondition(key="generation", match=models.MatchValue(value=generation))
            )
        if keep_generation is not None:
            flt.must_not = [
                models.FieldCondition(key="generation", match=models.MatchValue(value=keep_generation))
            ]
        for name in self._collections(company_id, knowledge_base_id):
            self.client.delete(name, points_selector=flt, wait=True)

    def delete_knowledge_base(self, *, company_id: int, knowledge_base_id: int) -> None:
        check_scope(company_id, [knowledge_base_id])
        for name in self._collections(company_id, knowledge_base_id):
            if self.layout == "per_base":
                self.client.delete_collection(name)
                self._known.discard(name)
            else:
                self.client.delete(name, points_selector=self._filter(company_id, [knowledge_base_id]))

    def count(self, *, company_id: int, knowledge_base_id: int, document_id: int | None = None) -> int:
        check_scope(company_id, [knowledge_base_id])
        flt = self._filter(company_id, [knowledge_base_id], document_id)
        return sum(
            self.client.count(name, count_filter=flt, exact=True).count
            for name in self._collections(company_id, knowledge_base_id)
        )

    def search(
        self,
        vector: Sequence[float],
        *,
        company_id: int,
        knowledge_base_ids: Sequence[int],
        top_k: int,
        score_threshold: float | None = None,
    ) -> list[RetrievedChunk]:
        base_ids = check_scope(company_id, knowledge_base_ids)
        dim = len(vector)
        if self.layout == "per_base":
            targets = [(self._collection(company_id, base_id, dim), None) for base_id in base_ids]
        else:
            targets = [(self._collection(company_id, base_ids[0], dim), self._filter(company_id, base_ids))]
        existing = self._existing()
        hits = []
        for name, flt in targets:
            if name not in existing:
                continue
            response = self.client.query_points(
                name,
                query=list(vector),
                query_filter=flt,
                limit=top_k,
                score_threshold=score_threshold,
                with_payload=True,
            )
            hits.extend(response.points)
        allowed = set(base_ids)
        chunks = [
            _retrieved(hit.payload, hit.score)
            for hit in hits
            if hit.payload.get("company_id") == company_id and hit.payload.get("knowledge_base_id") in allowed
        ]
        chunks.sort(key=lambda chunk: chunk.score, reverse=True)
        return chunks[:top_k]

    def drop_all(self) -> None:
        """Delete every collection of this prefix (the store's whole namespace)."""
        pattern = re.compile(rf"^{self.prefix}_(c\d+_kb\d+_)?d\d+$")
        for name in sorted(self._existing()):
            if pattern.match(name):
                self.client.delete_collection(name)
        self._known.clear()

    # === HELPERS === #

    def _collection(self, company_id: int, knowledge_base_id: int, dim: int) -> str:
        if self.layout == "per_base":
            return f"{self.prefix}_c{company_id}_kb{knowledge_base_id}_d{dim}"
        return f"{self.prefix}_d{dim}"

    def _existing(self) -> set[str]:
        return {item.name for item in self.client.get_collections().collections}

    def _collections(self, company_id: int, knowledge_base_id: int) -> list[str]:
        if self.layout == "per_base":
            pattern = re.compile(rf"^{self.prefix}_c{company_id}_kb{knowledge_base_id}_d\d+$")
        else:
            pattern = re.compile(rf"^{self.prefix}_d\d+$")
        return sorted(name for name in self._existing() if pattern.match(name))

    def _ensure(self, name: str, dim: int) -> None:
        if name in self._known:
            return
        from qdrant_client import models

        if not self.client.collection_exists(name):
            self.client.create_collection(
                name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT)
            )
            if not self.local:
                for field_name in ("company_id", "knowledge_base_id", "document_id"):
                    self.client.create_payload_index(
                        name, field_name=field_name, field_schema=models.PayloadSchemaType.INTEGER
                    )
        self._known.add(name)

    @staticmethod
    def _filter(company_id: int, base_ids: Sequence[int], document_id: int | None = None) -> Any:
        from qdrant_client import models

        must = [
            models.FieldCondition(key="company_id", match=models.MatchValue(value=company_id)),
            models.FieldCondition(key="knowledge_base_id", match=models.MatchAny(any=list(base_ids))),
        ]
        if document_id is not None:
            must.append(models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id)))
        return models.Filter(must=must)


# === PGVECTOR === #


def pgvector_status(cursor: Any) -> Literal["installed", "available", "missing"]:
    """Whether the ``vector`` extension is installed in the cursor's database, installable, or absent."""
    cursor.execute("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'")
    row = cursor.fetchone()
    if row is None:
        return "missing"
    return "installed" if row[0] else "available"


class PgVectorStore:
    """pgvector in a PostgreSQL database, through a cursor the caller owns (and commits).

    One table per dimension, ``<prefix>_<dim>``, with a b-tree on (company, knowledge base): a
    query reads only its company's and bases' rows and ranks them exactly, which stays within a
    few milliseconds for the tens of thousands of chunks a company has. ``hnsw=True`` adds an
    HNSW index for larger tables; searches then turn on pgvector's iterative index scan, so a
    selective company filter still returns the full ``top_k``.

    Args:
        cursor: A DB-API cursor (psycopg2) of the database holding the vectors.
        table_prefix: Table name prefix.
        hnsw: Give the tables an HNSW index (tables made before it was asked for too).
    """

    #: The store's name in traces.
    kind = "pgvector"

    def __init__(self, cursor: Any, *, table_prefix: str = "aia_kb_vector", hnsw: bool = False) -> None:
        if not _NAME.match(table_prefix):
            raise ValueError(f"invalid table prefix {table_prefix!r}")
        self.cr = cursor
        self.prefix = table_prefix
        self.hnsw = hnsw

    # === PORT === #

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        groups: dict[int, list[IndexedChunk]] = {}
        for chunk in chunks:
            check_scope(chunk.company_id, [chunk.knowledge_base_id])
            groups.setdefault(len(chunk.vector), []).append(chunk)
        for dim, rows in groups.items():
            table = self.ensure_table(dim)
            self.cr.execute(
                f"""
                INSERT INTO {table} (company_id, knowledge_base_id, document_id, generation, chunk_index,
                                     document_name, text, page, page_end, start_offset, end_offset,
                                     headings, embedding)
                SELECT u.company_id, u.knowledge_base_id, u.document_id, u.generation, u.chunk_index,
                       u.document_name, u.text, u.page, u.page_end, u.start_offset, u.end_offset,
                       u.headings::jsonb, u.embedding::vector
                  FROM unnest(%s::int[], %s::int[], %s::int[], %s::text[], %s::int[], %s::text[],
                              %s::text[], %s::int[], %s::int[], %s::int[], %s::int[], %s::text[],
                              %s::text[])
                       AS u(company_id, knowledge_base_id, document_id, generation, chunk_index,
                            document_name, text, page, page_end, start_offset, end_offset, headings,
                            embedding)
                ON CONFLICT (knowledge_base_id, document_id, generation, chunk_index) DO UPDATE
                   SET company_id = EXCLUDED.company_id, document_name = EXCLUDED.document_name,
                       text = EXCLUDED.text, page = EXCLUDED.page, page_end = EXCLUDED.page_end,
                       start_offset = EXCLUDED.start_offset, end_offset = EXCLUDED.end_offset,
                       headings = EXCLUDED.headings, embedding = EXCLUDED.embedding
                """,  # table names are built from a validated prefix and an int
                [
                    [row.company_id for row in rows],
                    [row.knowledge_base_id for row in rows],
                    [row.document_id for row in rows],
                    [row.generation for row in rows],
                    [row.chunk_index for row in rows],
                    [row.document_name for row in rows],
                    [row.text.replace("\x00", "") for row in rows],
                    [row.page for row in rows],
                    [row.page_end for row in rows],
                    [row.start_offset for row in rows],
                    [row.end_offset for row in rows],
                    [json.dumps(list(row.headings)) for row in rows],
                    [_vector_literal(row.vector) for row in rows],
                ],
            )

    def delete_document(
        self,
        *,
        company_id: int,
        knowledge_base_id: int,
        document_id: int,
        generation: str | None = None,
        keep_generation: str | None = None,
    ) -> None:
        """Delete the document's vectors: all, one ``generation``'s, or all but ``keep_generation``'s."""
        check_scope(company_id, [knowledge_base_id])
        query = "WHERE company_id = %s AND knowledge_base_id = %s AND document_id = %s"
        params: list[Any] = [company_id, knowledge_base_id, document_id]
        if generation is not None:
            query += " AND generation = %s"
            params.append(generation)
        if keep_generation is not None:
            query += " AND generation != %s"
            params.append(keep_generation)
        for table in self.tables():
            self.cr.execute(f"DELETE FROM {table} {query}", params)

    def delete_knowledge_base(self, *, company_id: int, knowledge_base_id: int) -> None:
        check_scope(company_id, [knowledge_base_id])
        for table in self.tables():
            self.cr.execute(
                f"DELETE FROM {table} WHERE company_id = %s AND knowledge_base_id = %s",
                (company_id, knowledge_base_id),
            )

    def count(self, *, company_id: int, knowledge_base_id: int, document_id: int | None = None) -> int:
        check_scope(company_id, [knowledge_base_id])
        total = 0
        for table in self.tables():
            query = f"SELECT count(*) FROM {table} WHERE company_id = %s AND knowledge_base_id = %s"
            params: list[Any] = [company_id, knowledge_base_id]
            if document_id is not None:
                query += " AND document_id = %s"
                params.append(document_id)
            self.cr.execute(query, params)
            total += self.cr.fetchone()[0]
        return total

    def search(
        self,
        vector: Sequence[float],
        *,
        company_id: int,
        knowledge_base_ids: Sequence[int],
        top_k: int,
        score_threshold: float | None = None,
    ) -> list[RetrievedChunk]:
        base_ids = check_scope(company_id, knowledge_base_ids)
        table = self._table(len(vector))
        if table not in self.tables():
            return []
        literal = _vector_literal(vector)
        # With an HNSW index, a selective filter would leave the index scan short of top_k rows
        # unless pgvector keeps scanning (0.8+); both settings last until the transaction ends.
        self.cr.execute(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            " set_config('hnsw.ef_search', %s, true)",
            (str(max(40, top_k)),),
        )
        self.cr.execute(
            f"""
            SELECT knowledge_base_id, document_id, chunk_index, document_name, text, page, page_end,
                   start_offset, end_offset, headings, company_id, generation,
                   (embedding <#> %s::vector) * -1 AS score
              FROM {table}
             WHERE company_id = %s AND knowledge_base_id = ANY(%s)
             ORDER BY embedding <#> %s::vector
             LIMIT %s
            """,
            (literal, company_id, base_ids, literal, top_k),
        )
        chunks = []
        for row in self.cr.fetchall():
            payload = dict(
                zip(
                    (
                        "knowledge_base_id",
                        "document_id",
                        "chunk_index",
                        "document_name",
                        "text",
                        "page",
                        "page_end",
                        "start_offset",
                        "end_offset",
                        "headings",
                        "company_id",
                        "generation",
                    ),
                    row[:-1],
                    strict=True,
                )
            )
            if isinstance(payload["headings"], str):
                payload["headings"] = json.loads(payload["headings"])
            if score_threshold is None or row[-1] >= score_threshold:
                chunks.append(_retrieved(payload, row[-1]))
        # relaxed_order may return neighbours slightly out of order.
        chunks.sort(key=lambda chunk: chunk.score, reverse=True)
        return chunks

    # === SCHEMA === #

    def drop_all(self) -> None:
        """Drop every table of this prefix (the store's whole namespace)."""
        for table in self.tables():
            self.cr.execute(f"DROP TABLE IF EXISTS {table}")  # pylint: disable=sql-injection

    def tables(self) -> list[str]:
        """The store's tables in the cursor's schema (one per dimension)."""
        self.cr.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename ~ %s",
            (rf"^{self.prefix}_[0-9]+$",),
        )
        return sorted(row[0] for row in self.cr.fetchall())

    def ensure_table(self, dim: int) -> str:
        """Create the table for ``dim``-dimensional vectors if it does not exist.

        Raises:
            VectorStoreError: The ``vector`` extension is missing or cannot be created here.
        """
        table = self._table(dim)
        # Checked each time (no cache): a rolled-back transaction takes a new table with it.
        self.cr.execute("SELECT to_regclass(%s)", (table,))
        if not self.cr.fetchone()[0]:
            self._create_table(table, dim)
        if self.hnsw:
            # Also on a table made before HNSW was turned on: the setting must not depend on
            # when the first document was indexed.
            self._ensure_hnsw(table)
        return table

    def _create_table(self, table: str, dim: int) -> None:
        status = pgvector_status(self.cr)
        if status == "missing":
            raise VectorStoreError(
                "PostgreSQL has no 'vector' extension: install pgvector on the database server, "
                "or choose a Qdrant vector store."
            )
        # Two workers creating the same table at once would collide on the catalog.
        self.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
        if status == "available":
            self.cr.execute("SAVEPOINT aia_vector_extension")
            try:
                self.cr.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except Exception as exc:  # insufficient privilege, mostly
                self.cr.execute("ROLLBACK TO SAVEPOINT aia_vector_extension")
                raise VectorStoreError(
                    "The 'vector' extension is available but this database user may not create it: "
                    f"run 'CREATE EXTENSION vector;' in the database as a superuser ({exc})."
                ) from exc
            self.cr.execute("RELEASE SAVEPOINT aia_vector_extension")
        # DDL takes no parameters; the name comes from a validated prefix and an int.
        self.cr.execute(  # pylint: disable=sql-injection
            f"""
            CREATE TABLE IF NOT EXISTS {table} (
                id bigserial PRIMARY KEY,
                company_id integer NOT NULL,
                knowledge_base_id integer NOT NULL,
                document_id integer NOT NULL,
                generation varchar NOT NULL DEFAULT '',
                chunk_index integer NOT NULL,
                document_name varchar,
                text text NOT NULL,
                page integer,
                page_end integer,
                start_offset integer,
                end_offset integer,
                headings jsonb,
                embedding vector({int(dim)}) NOT NULL,
                UNIQUE (knowledge_base_id, document_id, generation, chunk_index)
            )
            """
        )
        self.cr.execute(  # pylint: disable=sql-injection
            f"CREATE INDEX IF NOT EXISTS {table}_scope_idx ON {table} (company_id, knowledge_base_id)"
        )

    def _ensure_hnsw(self, table: str) -> None:
        self.cr.execute("SELECT to_regclass(%s)", (f"{table}_hnsw_idx",))
        if self.cr.fetchone()[0]:
            return
        self.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{table}_hnsw_idx",))
        self.cr.execute(  # pylint: disable=sql-injection
            f"CREATE INDEX IF NOT EXISTS {table}_hnsw_idx ON {table} USING hnsw (embedding vector_ip_ops)"
        )

    def _table(self, dim: int) -> str:
        if not isinstance(dim, int) or not 0 < dim <= 16000:
            raise ValueError(f"invalid vector dimension {dim!r}")
        return f"{self.prefix}_{dim}"


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(value)) for value in vector) + "]"
