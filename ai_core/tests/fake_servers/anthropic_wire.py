"""The fake of the Anthropic Messages API: its error bodies and its streamed event sequence."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .provider_server import FakeProviderServer, sse
from .script import FakeReply

__all__ = ["FakeAnthropicServer"]

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropicServer(FakeProviderServer):
    """Fake of the Anthropic Messages API (``POST /v1/messages``, streamed).

    Accepts the key as ``x-api-key`` or ``Authorization: Bearer``. Emits ``message_start`` (usage
    with cache figures), ``ping``, ``content_block_start`` / ``content_block_delta`` (``text_delta``;
    ``input_json_delta`` fragments, the first one empty) / ``content_block_stop`` per block,
    ``message_delta`` (stop reason, cumulative usage) and ``message_stop``; mid-stream errors as
    ``event: error``. The SDK's base URL is the server root.
    """

    endpoint_suffix = "/v1/messages"
    base_path = ""
    request_id_header = "request-id"

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.api_key is None:
            return True
        return headers.get("x-api-key") == self.api_key or super()._authorised(headers)

    def _error_body(self, status: int, error_type: str | None, message: str) -> dict[str, Any]:
        kind = (
            error_type
            or _ANTHROPIC_ERROR_TYPES.get(status)
            or ("api_error" if status >= 500 else "invalid_request_error")
        )
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": self._next_id("req_fake_"),
        }

    def _stream_error_event(self, reply: FakeReply) -> bytes:
        body = {"type": "error", "error": {"type": reply.error_type, "message": "Overloaded"}}
        return sse(body, "error")

    def _events(self, reply: FakeReply, body: Any) -> Iterator[bytes]:
        usage = reply.usage
        model = reply.model or (body.get("model") if isinstance(body, dict) else None) or "claude-fake"
        start_usage = {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            # The real API reports a provisional output count here; the final one is in message_delta.
            "output_tokens": 1,
        }
        message = {
            "id": self._next_id("msg_fake_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        yield sse({"type": "message_start", "message": message}, "message_start")
        yield sse({"type": "ping"}, "ping")
        index = 0
        fragments = reply.text_fragments
        if fragments:
            yield sse(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            )
            for fragment in fragments:
                delta = {"type": "text_delta", "text": fragment}
                yield sse(
                    {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                )
            yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        for call in reply.tool_calls:
            block = {
                "type": "tool_use",
                "id": call.id or self._next_id("toolu_fake_"),
                "name": call.name,
                "input": {},
            }
            yield sse(
                {"type": "content_block_start", "index": index, "content_block": block}, "content_block_start"
            )
            # The real API opens every tool input with an empty fragment.
            for fragment in ["", *reply.json_fragments(call)]:
                delta = {"type": "input_json_delta", "partial_json": fragment}
                yield sse(
                    {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                )
            yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        stop_reason = reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")
        final_usage: dict[str, Any] = {"output_tokens": usage.output_tokens}
        if reply.cumulative_delta_usage:
            final_usage = {
                "input_tokens": usage.input_tokens,
                "cache_creation_input_tokens": usage.cache_write_tokens,
                "cache_read_input_tokens": usage.cache_read_tokens,
                "output_tokens": usage.output_tokens,
            }
        delta = {"stop_reason": stop_reason, "stop_sequence": reply.stop_sequence}
        yield sse({"type": "message_delta", "delta": delta, "usage": final_usage}, "message_delta")
        yield sse({"type": "message_stop"}, "message_stop")
