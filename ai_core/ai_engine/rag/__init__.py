"""Retrieval-augmented generation: extraction, chunking, local embeddings, vector stores, retrieval.

Importing this package is cheap: torch / sentence-transformers, qdrant-client, pypdf and lxml are
imported when an embedder, a store or a reader of their format is first used.
"""

from __future__ import annotations

from .chunker import Chunk, Chunker, estimate_tokens
from .embedder import (
    DEFAULT_MODEL,
    PACKAGED_MODELS,
    EmbeddingModelError,
    SentenceTransformerEmbedder,
    get_embedder,
    model_available,
    resolve_model_path,
    set_torch_threads,
)
from .extract import FORMATS, Block, EmptyDocument, ExtractionError, detect_format, extract
from .indexer import IndexStats, index_blocks
from .retriever import KnowledgeRetriever, citations, cited, page_label, wrap_passages
from .stores import PgVectorStore, QdrantStore, VectorStoreError, close_local_store, pgvector_status

__all__ = [
    "DEFAULT_MODEL",
    "FORMATS",
    "PACKAGED_MODELS",
    "Block",
    "Chunk",
    "Chunker",
    "EmbeddingModelError",
    "EmptyDocument",
    "ExtractionError",
    "IndexStats",
    "KnowledgeRetriever",
    "PgVectorStore",
    "QdrantStore",
    "SentenceTransformerEmbedder",
    "VectorStoreError",
    "cited",
    "close_local_store",
    "citations",
    "detect_format",
    "estimate_tokens",
    "extract",
    "get_embedder",
    "index_blocks",
    "model_available",
    "page_label",
    "pgvector_status",
    "resolve_model_path",
    "set_torch_threads",
    "wrap_passages",
]
