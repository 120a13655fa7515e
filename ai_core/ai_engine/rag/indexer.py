"""The indexing pipeline: extract → chunk → embed → upsert, streamed in batches.

Nothing holds the whole document: blocks are read lazily, chunks are grouped ``batch_size`` at a
time, embedded and written, then dropped. The vectors are tagged with the run's generation: a
re-index writes a new generation beside the one being served, and the caller drops the old one
once the new one is complete (``VectorStore.delete_document(keep_generation=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..ports import Embedder, IndexedChunk, VectorStore
from .chunker import Chunk, Chunker
from .extract import Block, EmptyDocument

__all__ = ["IndexStats", "index_blocks"]


@dataclass(frozen=True)
class IndexStats:
    """What one indexing run did."""

    chunks: int
    tokens: int
    characters: int
    seconds: float


def index_blocks(
    blocks: Iterable[Block],
    *,
    company_id: int,
    knowledge_base_id: int,
    document_id: int,
    document_name: str,
    chunker: Chunker,
    embedder: Embedder,
    store: VectorStore,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    generation: str = "",
) -> IndexStats:
    """Index ``blocks`` as the document ``document_id`` of a knowledge base.

    Args:
        progress: Called with the number of chunks written after each batch; an exception it
            raises stops the run (e.g. the document was deleted meanwhile).
        generation: This run's tag on the vectors it writes; what an earlier attempt of the same
            generation wrote is replaced.

    Raises:
        EmptyDocument: The blocks hold no text.
        ExtractionError: Raised by the blocks' reader on a corrupt file.
    """
    started = time.perf_counter()
    store.delete_document(
        company_id=company_id,
        knowledge_base_id=knowledge_base_id,
        document_id=document_id,
        generation=generation,
    )
    written = tokens = characters = 0
    batch: list[Chunk] = []

    def flush() -> None:
        nonlocal written
        vectors = embedder.embed([chunk.text for chunk in batch])
        store.upsert(
            [
                IndexedChunk(
                    company_id=company_id,
                    knowledge_base_id=knowledge_base_id,
                    document_id=document_id,
                    chunk_index=chunk.index,
                    text=chunk.text,
                    vector=vector,
                    document_name=document_name,
                    page=chunk.page,
                    page_end=chunk.page_end,
                    start_offset=chunk.start_offset,
                    end_offset=chunk.end_offset,
                    headings=chunk.headings,
                    generation=generation,
                )
                for chunk, vector in zip(batch, vectors, strict=True)
            ]
        )
        written += len(batch)
        batch.clear()
        if progress is not None:
            progress(written)

    for chunk in chunker.chunks(blocks):
        batch.append(chunk)
        tokens += chunk.tokens
        characters += len(chunk.text)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if not written:
        raise EmptyDocument("The document contains no text to index (a scanned PDF needs OCR first).")
    return IndexStats(written, tokens, characters, time.perf_counter() - started)
