"""The fake of OpenAI Chat Completions: its error bodies and its streamed chunks (also what
OpenRouter, vLLM and other compatible servers send)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from .provider_server import FakeProviderServer, sse
from .script import FakeReply

__all__ = ["FakeOpenAIServer"]

_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class FakeOpenAIServer(FakeProviderServer):
    """Fake of OpenAI Chat Completions (``POST …/chat/completions``, streamed).

    Emits ``data: {chunk}`` lines: a role chunk, text deltas, tool-call fragments keyed by
    ``tool_calls[].index`` (id and name only in the first fragment of each call), a chunk with the
    ``finish_reason``, then, when the request asked ``stream_options.include_usage``, a usage chunk
    with empty ``choices`` and ``prompt_tokens_details.cached_tokens``, then ``data: [DONE]``.
    Mid-stream errors are sent as ``data: {"error": {...}}`` (OpenRouter, vLLM). The SDK's base
    URL is ``url + "/v1"``; any path ending in ``/chat/completions`` is answered.
    """

    endpoint_suffix = "/chat/completions"
    base_path = "/v1"
    request_id_header = "x-request-id"

    def _error_body(self, status: int, error_type: str | None, message: str) -> dict[str, Any]:
        default_type, code = _OPENAI_ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        return {
            "error": {"message": message, "type": error_type or default_type, "param": None, "code": code}
        }

    def _stream_error_event(self, reply: FakeReply) -> bytes:
        return sse({"error": {"message": "The server had an error", "type": reply.error_type, "code": None}})

    def _events(self, reply: FakeReply, body: Any) -> Iterator[bytes]:
        request = body if isinstance(body, dict) else {}
        model = reply.model or request.get("model") or "gpt-fake"
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        if reply.usage_chunk is not None:
            include_usage = reply.usage_chunk
        base = {
            "id": self._next_id("chatcmpl-fake"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            data = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                # With include_usage the real API sends a null usage on every chunk but the last.
                data["usage"] = None
            return sse(data)

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for fragment in reply.text_fragments:
            yield chunk({"content": fragment})
        calls = [
            (index, call, call.id or self._next_id("call_fake_"))
            for index, call in enumerate(reply.tool_calls)
        ]
        for index, call, call_id in calls:
            first = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            if not reply.interleave_tool_calls:
                yield chunk({"tool_calls": [first]})
                for fragment in reply.json_fragments(call):
                    yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
            else:
                yield chunk({"tool_calls": [first]})
        if reply.interleave_tool_calls:
            pending = {index: deque(reply.json_fragments(call)) for index, call, _ in calls}
            while any(pending.values()):
                for index in sorted(pending):
                    if pending[index]:
                        fragment = pending[index].popleft()
                        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
        finish_reason = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
        yield chunk({}, finish_reason)
        if include_usage:
            usage = reply.usage
            details: dict[str, Any] = {"cached_tokens": usage.cache_read_tokens, "audio_tokens": 0}
            if usage.cache_write_tokens:
                details["cache_write_tokens"] = usage.cache_write_tokens
            prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
            usage_data = {
                "prompt_tokens": prompt,
                "completion_tokens": usage.output_tokens,
                "total_tokens": prompt + usage.output_tokens,
                "prompt_tokens_details": details,
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            }
            yield sse({**base, "choices": [], "usage": usage_data})
        yield sse("[DONE]")
