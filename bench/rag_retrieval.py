"""Retrieval latency with the company filter: pgvector at 100 k chunks, Qdrant local mode at 10 k.

pgvector: a scratch database (created and dropped here, 127.0.0.1:5432) holds ``--rows`` random
normalised 384-d vectors spread over 20 companies x 5 knowledge bases, generated in SQL. A query
names one company and its 5 bases (5 % of the rows) and asks for top_k=5; p50 / p95 over
``--queries`` random query vectors, exact search (b-tree on company and base) and HNSW with
iterative scan (the default of a new base since HNSW became the default). Every query must return
the full top_k. What HNSW costs the indexing jobs: ``--insert`` chunks upserted in batches of 64 (as
a job writes them) into the 100 k table with and without its HNSW index. Qdrant local mode:
``--local-rows`` chunks of one base, per-base layout (the store's default in local mode) and, for
comparison, the shared layout where local mode evaluates the filter in Python. Baseline in the same
run: the query's embedding with all-MiniLM-L6-v2 (what a retrieval also pays once).

Run: ``.venv/bin/python bench/rag_retrieval.py [--rows 100000] [--local-rows 10000]``
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ai_core"))

from ai_engine.ports import IndexedChunk
from ai_engine.rag import PgVectorStore, QdrantStore, get_embedder

DIM = 384
TOP_K = 5


def unit(rng: random.Random) -> list[float]:
    vector = [rng.gauss(0, 1) for _ in range(DIM)]
    norm = sum(value * value for value in vector) ** 0.5
    return [value / norm for value in vector]


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def timed(search, queries) -> tuple[float, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        found = search(query)
        times.append(time.perf_counter() - started)
        assert len(found) == TOP_K, len(found)
    return percentiles(times)


def pgvector_rows(cursor, rows: int) -> None:
    table = PgVectorStore(cursor).ensure_table(DIM)
    cursor.execute(
        f"""
        INSERT INTO {table} (company_id, knowledge_base_id, document_id, chunk_index, document_name,
                             text, embedding)
        SELECT 1 + (i %% 20), 1 + (i %% 100), i / 50, i %% 50, 'doc', 'chunk ' || i,
               (SELECT l2_normalize(array_agg(random() - 0.5)::vector) FROM generate_series(1, {DIM}) d
                 WHERE i >= 0)
          FROM generate_series(0, %s - 1) i
        """,
        (rows,),
    )
    cursor.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--local-rows", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--insert", type=int, default=640)
    args = parser.parse_args()
    rng = random.Random(5)
    queries = [unit(rng) for _ in range(args.queries)]
    results = []

    embedder = get_embedder("all-MiniLM-L6-v2")
    embedder.embed(["warm up"])
    texts = [f"What is the refund policy for order {i}?" for i in range(args.queries)]
    times = []
    for text in texts:
        started = time.perf_counter()
        embedder.embed([text])
        times.append(time.perf_counter() - started)
    results.append(("baseline: embed the query (all-MiniLM-L6-v2)", "-", *percentiles(times)))

    import psycopg2

    params = {"host": "127.0.0.1", "port": 5432, "user": getpass.getuser()}
    name = f"aia_kb_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    connection = None
    try:
        connection = psycopg2.connect(dbname=name, **params)
        cursor = connection.cursor()
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        started = time.perf_counter()
        pgvector_rows(cursor, args.rows)
        connection.commit()
        print(f"pgvector: {args.rows} rows generated in {time.perf_counter() - started:.1f} s")
        # Company 4 owns bases 4, 24, 44, 64, 84 (i % 20 == 3 and i % 100 in those).
        scope = {"company_id": 4, "knowledge_base_ids": [4, 24, 44, 64, 84], "top_k": TOP_K}
        store = PgVectorStore(cursor)
        results.append(
            (
                f"pgvector exact, {args.rows} chunks",
                "5 %",
                *timed(lambda q: store.search(q, **scope), queries),
            )
        )
        inserts = [
            IndexedChunk(
                4, 4, 900_000 + index // 50, index % 50, f"new {index}", unit(rng), "doc", generation="b"
            )
            for index in range(args.insert)
        ]

        def insert(generation):
            started = time.perf_counter()
            for start in range(0, len(inserts), 64):
                batch = inserts[start : start + 64]
                store.upsert([dataclasses.replace(chunk, generation=generation) for chunk in batch])
                connection.commit()
            return (time.perf_counter() - started) / len(inserts) * 1000

        insert_exact = insert("exact")
        started = time.perf_counter()
        # What the store does on its first upsert with aia.pgvector_hnsw on (the default).
        PgVectorStore(cursor, hnsw=True).ensure_table(DIM)
        connection.commit()
        print(f"pgvector: HNSW index built in {time.perf_counter() - started:.1f} s")
        results.append(
            (
                f"pgvector HNSW + iterative scan (the default), {args.rows} chunks",
                "5 %",
                *timed(lambda q: store.search(q, **scope), queries),
            )
        )
        insert_hnsw = insert("hnsw")
        print(f"| upsert into {args.rows} chunks, batches of 64 | ms per chunk |")
        print("|---|---|")
        print(f"| baseline: no HNSW index | {insert_exact:.2f} |")
        print(f"| with the HNSW index | {insert_hnsw:.2f} ({insert_hnsw / insert_exact:.1f}x) |")
    finally:
        if connection is not None:
            connection.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    for layout in ("per_base", "shared"):
        store = QdrantStore(path=":memory:", layout=layout)
        batch = []
        for index in range(args.local_rows):
            batch.append(IndexedChunk(1, 1, index // 50, index % 50, f"chunk {index}", unit(rng), "doc"))
            if len(batch) == 1000:
                store.upsert(batch)
                batch = []
        store.upsert(batch)
        scope = {"company_id": 1, "knowledge_base_ids": [1], "top_k": TOP_K}
        label = "collection per base" if layout == "per_base" else "shared collection, Python filter"
        results.append(
            (
                f"Qdrant local ({label}), {args.local_rows} chunks",
                "100 %",
                *timed(lambda q, store=store, scope=scope: store.search(q, **scope), queries[:30]),
            )
        )

    print("| search | rows of the company | p50 (ms) | p95 (ms) |")
    print("|---|---|---|---|")
    for label, share, p50, p95 in results:
        print(f"| {label} | {share} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
