"""The engine's ports: what callers plug in (the Odoo layer supplies its own implementations)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Union, runtime_checkable

from .messages import Message, ModelRequest, ModelResponse, StreamText

__all__ = [
    "CallLedger",
    "Clock",
    "Embedder",
    "MessageSink",
    "ModelAdapter",
    "RetrievedChunk",
    "Retriever",
    "ToolContext",
    "VectorStore",
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


class Retriever(Protocol):
    """Knowledge retrieval; every query is scoped to a company and knowledge bases."""

    def retrieve(
        self, query: str, *, company_id: int, knowledge_base_ids: Sequence[int], top_k: int
    ) -> list[RetrievedChunk]: ...


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class VectorStore(Protocol):
    def upsert(self, points: Sequence[dict[str, Any]]) -> None: ...

    def delete_document(self, *, company_id: int, knowledge_base_id: int, document_id: int) -> None: ...

    def search(
        self, vector: Sequence[float], *, company_id: int, knowledge_base_ids: Sequence[int], top_k: int
    ) -> list[RetrievedChunk]: ...
