"""Indexing throughput against the raw throughput of the embedding model, in the same run.

A synthetic Markdown handbook (sections of varied sentences) goes through the whole pipeline:
extraction, chunking (800-token chunks, 15 % overlap), embedding (each chunk as the mean of its
256-token windows) and the upsert into a vector store. The baseline is the model alone encoding
exactly the same windows in the same batches. Ratio = pipeline tokens/s / model tokens/s
(goal >= 0.8: the pipeline adds little to what the model costs).

Run: ``.venv/bin/python bench/rag_indexing.py [--sections 40] [--store qdrant|pgvector]``
(pgvector: a scratch database on 127.0.0.1:5432, created and dropped by the script).
"""

from __future__ import annotations

import argparse
import getpass
import io
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ai_core"))

from ai_engine.rag import Chunker, PgVectorStore, QdrantStore, extract, get_embedder, index_blocks

WORDS = (
    "invoice customer warehouse delivery refund policy contract supplier payment order stock "
    "employee manager approval budget quarter report ledger account tax shipment return warranty "
    "product service price discount schedule meeting training safety badge laptop travel expense"
).split()


def handbook(sections: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    parts = []
    for section in range(sections):
        parts.append(f"## Section {section}: {' '.join(rng.sample(WORDS, 3))}")
        for _ in range(8):
            sentences = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
                for _ in range(rng.randint(3, 6))
            ]
            parts.append(" ".join(sentences))
    return ("\n\n".join(parts) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", type=int, default=40)
    parser.add_argument("--store", choices=["qdrant", "pgvector"], default="qdrant")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    embedder = get_embedder("all-MiniLM-L6-v2")
    embedder.embed(["warm up"])
    data = handbook(args.sections)
    chunker = Chunker(chunk_tokens=800, overlap_tokens=120)
    texts = [chunk.text for chunk in chunker.chunks(extract(io.BytesIO(data), "md"))]
    windows, _owners, _weights = embedder._windows(texts)
    tokens = sum(embedder.count_tokens(text) for text in texts)

    connection = admin = None
    name = f"aia_kb_bench_{uuid.uuid4().hex[:8]}"
    if args.store == "pgvector":
        import psycopg2

        params = {"host": "127.0.0.1", "port": 5432, "user": getpass.getuser()}
        admin = psycopg2.connect(dbname="postgres", **params)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        connection = psycopg2.connect(dbname=name, **params)
        connection.cursor().execute("CREATE EXTENSION IF NOT EXISTS vector")
        store = PgVectorStore(connection.cursor())
    else:
        store = QdrantStore(path=":memory:")

    baseline, pipeline = [], []
    try:
        for _ in range(args.repeat):
            started = time.perf_counter()
            for start in range(0, len(windows), 64 * 4):
                embedder.model.encode(
                    windows[start : start + 64 * 4], batch_size=32, normalize_embeddings=True
                )
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            stats = index_blocks(
                extract(io.BytesIO(data), "md"),
                company_id=1,
                knowledge_base_id=1,
                document_id=1,
                document_name="handbook.md",
                chunker=chunker,
                embedder=embedder,
                store=store,
            )
            if connection is not None:
                connection.commit()
            pipeline.append(time.perf_counter() - started)
    finally:
        if connection is not None:
            connection.close()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.close()
    best_base, best_pipe = min(baseline), min(pipeline)
    print(
        f"document: {len(data) / 1e6:.2f} MB, {stats.chunks} chunks, {len(windows)} windows, {tokens} tokens"
    )
    print("| store | chunks | tokens | model alone (tokens/s) | pipeline (tokens/s) | ratio |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.store} | {stats.chunks} | {tokens} | {tokens / best_base:.0f} | {tokens / best_pipe:.0f} "
        f"| {best_base / best_pipe:.2f} |"
    )


if __name__ == "__main__":
    main()
