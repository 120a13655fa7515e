"""The fake provider servers' own wire behaviour, read with the standard library (no SDK)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fake_servers import FakeAnthropicServer, FakeOpenAIServer, FakeReply, FakeToolCall

AI_CORE = Path(__file__).resolve().parents[1] / "ai_core"


def post(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request(
        "POST", path, json.dumps(body), {"content-type": "application/json", **(headers or {})}
    )
    return connection.getresponse()


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    events = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), fields["data"]))
    return events


def test_adapter_and_fake_modules_do_not_import_the_sdks() -> None:
    code = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "import ai_engine.anthropic_adapter, ai_engine.openai_adapter, fake_servers\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=AI_CORE, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout))
    assert not {name for name in modules if name.split(".")[0] in ("anthropic", "openai", "httpx2")}


def test_anthropic_stream_is_chunked_with_the_real_event_sequence() -> None:
    with FakeAnthropicServer() as server:
        server.add(
            FakeReply(text=("Hi",), tool_calls=(FakeToolCall("get_time", {"tz": "UTC"}, id="toolu_1"),))
        )
        response = post(server.url, "/v1/messages", {"model": "claude-x", "stream": True})
        raw = response.read()

    assert response.status == 200
    assert response.getheader("transfer-encoding") == "chunked"
    events = sse_events(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    tool_start = json.loads(events[5][1])["content_block"]
    assert tool_start == {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {}}
    fragments = [json.loads(data)["delta"]["partial_json"] for name, data in events[6:10]]
    assert fragments[0] == ""
    assert json.loads("".join(fragments)) == {"tz": "UTC"}
    assert json.loads(events[0][1])["message"]["model"] == "claude-x"


def test_anthropic_accepts_the_key_as_x_api_key_or_bearer() -> None:
    with FakeAnthropicServer(api_key="sk-right") as server:
        server.add(FakeReply(text="a"), FakeReply(text="b"))
        by_header = post(server.url, "/v1/messages", {}, {"x-api-key": "sk-right"})
        by_header.read()
        by_bearer = post(server.url, "/v1/messages", {}, {"authorization": "Bearer sk-right"})
        by_bearer.read()
        wrong = post(server.url, "/v1/messages", {}, {"x-api-key": "sk-wrong"})
        wrong_body = json.loads(wrong.read())

    assert (by_header.status, by_bearer.status, wrong.status) == (200, 200, 401)
    assert wrong_body["type"] == "error"
    assert wrong_body["error"]["type"] == "authentication_error"


def test_scripted_http_error_has_the_provider_shape_and_headers() -> None:
    with FakeAnthropicServer() as server:
        server.add_error(529, headers={"retry-after": "3"})
        response = post(server.url, "/v1/messages", {"model": "m"})
        body = json.loads(response.read())

    assert response.status == 529
    assert response.getheader("retry-after") == "3"
    assert body["error"]["type"] == "overloaded_error"


def test_requests_are_recorded_and_an_empty_script_answers_400() -> None:
    with FakeOpenAIServer() as server:
        response = post(server.url, "/v1/chat/completions", {"model": "m"}, {"x-custom": "1"})
        body = json.loads(response.read())
        unknown = post(server.url, "/v1/embeddings", {})
        unknown.read()

    assert response.status == 400
    assert "no scripted reply" in body["error"]["message"]
    assert unknown.status == 404
    first = server.requests[0]
    assert (first.method, first.path, first.body) == ("POST", "/v1/chat/completions", {"model": "m"})
    assert first.headers["x-custom"] == "1"
    assert len(server.requests) == 2


def test_openai_stream_sends_usage_only_when_asked_then_done() -> None:
    reply = FakeReply(tool_calls=(FakeToolCall("get_time", {"tz": "UTC"}, id="call_1"),), json_chunk_size=4)
    with FakeOpenAIServer() as server:
        server.add(reply, reply)
        with_usage = sse_events(
            post(server.url, "/v1/chat/completions", {"stream_options": {"include_usage": True}}).read()
        )
        without_usage = sse_events(post(server.url, "/v1/chat/completions", {}).read())

    assert with_usage[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in with_usage[:-1]]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    calls = [chunk["choices"][0]["delta"]["tool_calls"][0] for chunk in chunks[1:-2]]
    assert calls[0]["id"] == "call_1" and calls[0]["function"]["name"] == "get_time"
    assert all("id" not in call and "name" not in call["function"] for call in calls[1:])
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert all("usage" not in json.loads(data) for _, data in without_usage[:-1])


def test_events_are_flushed_one_by_one() -> None:
    with FakeOpenAIServer(event_delay=0.25) as server:
        server.add(FakeReply(text=("a", "b", "c", "d")))
        started = time.monotonic()
        response = post(server.url, "/v1/chat/completions", {})
        first_line = response.readline()
        first_at = time.monotonic() - started
        response.read()
        total = time.monotonic() - started

    assert first_line  # a chunk-size line of the first event
    assert first_at < 0.6
    assert total > 1.2
