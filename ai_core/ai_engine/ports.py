"""The engine's ports: what callers plug in (the Odoo layer supplies its own implementations)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Union, runtime_checkable

from .messages import Message, ModelRequest, ModelResponse, StreamText, ToolResultBlock

__all__ = [
    "CallLedger",
    "Clock",
    "Embedder",
    "ExecutedCalls",
    "IndexedChunk",
    "MessageSink",
    "ModelAdapter",
    "RetrievedChunk",
    "Retriever",
    "ToolContext",
    "VectorStore",
    "check_scope",
]

ModelStreamItem = Union[StreamText, ModelResponse]


@runtime_checkable
class ModelAdapter(Protocol):
    """Streams one provider response.

    ``stream`` yields zero or more :class:`StreamText` fragments, then exactly one
    :class:`ModelResponse`. Failures raise :class:`~ai_engine.errors.ProviderError`.
    """

    provider: str

    def stream(self, request: ModelRequest) -> Iterator[ModelStreamItem]: ...


class ToolContext(Protocol):
    """What a tool handler may use. The Odoo implementation carries an ``env`` bound to the
    session's user and runs each call in a savepoint."""

    def invoke(self, handler: Callable[..., Any], arguments: dict[str, Any], *, timeout: float) -> Any:
        """Run ``handler(self, arguments)`` within ``timeout`` seconds.

        Raises:
            ai_engine.tools.ToolTimeout: When the handler did not finish in time.
        """
        ...


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime:
        """Aware UTC time, for daily / monthly call budgets."""
        ...


class CallLedger(Protocol):
    """Counts past tool calls, for daily and monthly call budgets shared by every process."""

    def count_calls(self, tool_name: str, since: datetime) -> int: ...

    def record_call(self, tool_name: str, at: datetime) -> None: ...


class ExecutedCalls(Protocol):
    """The idempotency key of tool calls: what a call that already ran returned, by its id.

    Asked only for calls read back from a saved transcript (a resumed or recovered turn), never
    for calls the model has just made: a call it knows is not run again.
    """

    def result_of(self, call_id: str) -> ToolResultBlock | None: ...


class MessageSink(Protocol):
    """Receives each assistant and tool message as soon as the turn produces it."""

    def append(self, message: Message) -> None: ...


@dataclass(frozen=True)
class RetrievedChunk:
    """A passage returned by a retriever, with what a citation needs."""

    text: str
    score: float
    document_id: int
    document_name: str
    chunk_id: str
    page: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    knowledge_base_id: int | None = None


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk with its vector, as written to a vector store; its scope (company, knowledge base,
    document) travels with it so every store can filter on it."""

    company_id: int
    knowledge_base_id: int
    document_id: int
    chunk_index: int
    text: str
    vector: Sequence[float]
    document_name: str = ""
    page: int | None = None
    page_end: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    headings: tuple[str, ...] = ()
    #: The indexing run that wrote the chunk: a re-index writes a new generation beside the one
    #: being served, and the caller drops the old one once the new one is complete.
    generation: str = ""

    @property
    def chunk_id(self) -> str:
        return f"{self.document_id}-{self.chunk_index}"


def check_scope(company_id: int, knowledge_base_ids: Sequence[int]) -> list[int]:
    """Validate the mandatory scope of a knowledge query and return the base ids as a list.

    Raises:
        ValueError: No company, or no knowledge base: there is no unscoped query.
    """
    if isinstance(company_id, bool) or not isinstance(company_id, int) or company_id <= 0:
        raise ValueError(f"a knowledge query needs a company id, got {company_id!r}")
    ids = list(knowledge_base_ids or ())
    if not ids or any(isinstance(i, bool) or not isinstance(i, int) or i <= 0 for i in ids):
        raise ValueError(f"a knowledge query needs knowledge base ids, got {knowledge_base_ids!r}")
    return ids


class Retriever(Protocol):
    """Knowledge retrieval; every query is scoped to a company and knowledge bases."""

    def retrieve(
        self, query: str, *, company_id: int, knowledge_base_ids: Sequence[int], top_k: int
    ) -> list[RetrievedChunk]: ...


class Embedder(Protocol):
    """Texts to normalised vectors of ``dimension`` floats."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class VectorStore(Protocol):
    """Chunks and their vectors. Every read and delete names the company and the knowledge base(s):
    no method reaches another company's or another base's chunks. A store keeps vectors of
    different dimensions apart, so a base may move to another embedding model."""

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None: ...

    def delete_document(
        self,
        *,
        company_id: int,
        knowledge_base_id: int,
        document_id: int,
        generation: str | None = None,
        keep_generation: str | None = None,
    ) -> None: ...

    def delete_knowledge_base(self, *, company_id: int, knowledge_base_id: int) -> None: ...

    def count(self, *, company_id: int, knowledge_base_id: int, document_id: int | None = None) -> int: ...

    def search(
        self,
        vector: Sequence[float],
        *,
        company_id: int,
        knowledge_base_ids: Sequence[int],
        top_k: int,
        score_threshold: float | None = None,
    ) -> list[RetrievedChunk]: ...
