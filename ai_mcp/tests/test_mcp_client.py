"""Outside MCP servers as tools, against a server written with the official SDK (``MCPServer``, the
former FastMCP) on 127.0.0.1 over Streamable HTTP: discovery, calls in a turn through the engine's
usual path, shadow mode, a slow tool, a malformed answer, a 10 MB answer, and the doors an
administrator alone may open."""

import json
import socket
import threading
import time
from unittest.mock import patch

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from odoo.exceptions import AccessError, UserError
from odoo.modules import neutralize
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.ai_core import safe_fetch, secret_box
from odoo.addons.ai_core.ai_engine.testing import block_network, reply, tool_calls, unwrap_tool_result
from odoo.addons.ai_core.tests.common import AiaCase

SECRET = "mcp-bearer-5d1f-never-shown"
STOCK = {"A1": {"sku": "A1", "on_hand": 42, "reserved": 5}}
ALLOWED = "read_stock write_note slow malformed big"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _build_app(calls, headers_seen):
    """The test server's ASGI app: the SDK's server, behind a layer that records each tools/call
    (name and headers) and answers the ``malformed`` tool with a result that breaks the schema."""
    server = MCPServer("Shop")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def read_stock(sku: str) -> dict:
        """Stock of one product."""
        return STOCK.get(sku, {"sku": sku, "on_hand": 0, "reserved": 0})

    @server.tool()
    def write_note(text: str) -> str:
        """Write a note in the shop."""
        return f"noted: {text}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def slow() -> str:
        """Answers late."""
        await anyio.sleep(3)
        return "late"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def malformed() -> str:
        """Answers with a broken result."""
        return "never sent"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def big() -> str:
        """Answers 10 MB."""
        return "x" * 10_000_000

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def not_allowlisted() -> str:
        """Never offered to agents."""
        return "secret"

    app = server.streamable_http_app(json_response=True, stateless_http=True)

    async def recording(scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("method") == "tools/call":
            name = payload["params"]["name"]
            calls.append(name)
            headers_seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
            if name == "malformed":
                broken = {"jsonrpc": "2.0", "id": payload["id"], "result": {"content": "not a list"}}
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": json.dumps(broken).encode()})
                return None
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await app(scope, replay, send)

    return recording


@tagged("post_install", "-at_install")
class TestMcpClient(AiaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calls, cls.headers_seen = [], []
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                _build_app(cls.calls, cls.headers_seen),
                host="127.0.0.1",
                port=port,
                log_level="error",
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        cls.addClassCleanup(thread.join, 10)

        def stop():
            server.should_exit = True

        cls.addClassCleanup(stop)
        cls.url = f"http://127.0.0.1:{port}/mcp"
        cls.manager = cls.make_user("aia_manager", "ai_core.group_aia_manager")

    def setUp(self):
        super().setUp()
        self.calls.clear()
        self.headers_seen.clear()
        self.enterContext(patch.dict(config._runtime_options, {secret_box.CONFIG_KEY: "mcp-client-test-key"}))
        self.enterContext(block_network())
        # The test server listens on loopback, which an administrator has to open to fetches.
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1")
        self.server = self.env["aia.mcp.server"].create(
            {
                "name": "Shop",
                "code": "shop",
                "url": self.url,
                "headers": {"Authorization": f"Bearer {SECRET}"},
                "allowed_tools": ALLOWED,
                "timeout": 2,
            }
        )

    def discover(self):
        self.server.action_discover_tools()
        return {tool.mcp_tool_name: tool for tool in self.server.tool_ids}

    def call(self, remote_name, arguments, answer="Done.", tool=None):
        """One turn in which the model calls the server's tool ``remote_name`` (discovered unless
        ``tool`` is given) once; returns the execution and the scripted model."""
        tool = tool or self.discover()[remote_name]
        self.agent.tool_ids = [(4, tool.id)]
        model = self.script(tool_calls((tool.name.replace(".", "_"), arguments)), reply(answer))
        session = self.new_session()
        self.chat(session, "Ask the shop")
        model.assert_complete()
        return session.execution_ids, model

    def test_discovery_offers_the_allowlisted_tools_in_the_mode_of_their_hints(self):
        tools = self.discover()
        self.assertEqual(set(tools), set(ALLOWED.split()))
        self.assertEqual(tools["read_stock"].name, "mcp_shop.read_stock")
        self.assertEqual(tools["read_stock"].kind, "mcp")
        self.assertEqual(tools["read_stock"].mode, "read")
        # No readOnlyHint: a write tool.
        self.assertEqual(tools["write_note"].mode, "write")
        self.assertEqual(tools["read_stock"].input_schema["properties"]["sku"]["type"], "string")
        self.assertEqual(tools["read_stock"].description, "Stock of one product.")
        self.assertTrue(tools["read_stock"].is_available)
        # Dropped from the allowlist: archived at the next discovery, and never offered meanwhile.
        self.server.allowed_tools = "read_stock"
        self.assertIsNone(tools["write_note"]._aia_spec())
        self.server.action_discover_tools()
        self.assertFalse(tools["write_note"].active)
        self.assertTrue(tools["read_stock"].active)

    def test_a_read_tool_answers_in_a_turn_with_the_servers_figures(self):
        execution, model = self.call("read_stock", {"sku": "A1"}, "42 on hand.")
        self.assertEqual(execution.status, "ok")
        self.assertEqual(execution.output, STOCK["A1"])
        tool_message = model.requests[1].messages[-1]
        self.assertEqual(json.loads(unwrap_tool_result(tool_message.tool_results[0].content)), STOCK["A1"])
        self.assertEqual(self.calls, ["read_stock"])
        # The header went to the server, decrypted, and nowhere else.
        self.assertEqual(self.headers_seen[0]["authorization"], f"Bearer {SECRET}")
        audit = json.dumps([execution.arguments, execution.output, execution.content, execution.preview])
        self.assertNotIn(SECRET, audit)
        # Encrypted at rest.
        self.env.flush_all()
        self.env.cr.execute("SELECT headers::text FROM aia_mcp_server WHERE id = %s", [self.server.id])
        self.assertNotIn(SECRET, self.env.cr.fetchone()[0])

    def test_a_write_tool_in_shadow_mode_is_not_called(self):
        self.assertTrue(self.agent.shadow_mode)
        execution, _model = self.call("write_note", {"text": "Reorder A1"})
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(self.calls, [])

    def test_a_write_tool_out_of_shadow_mode_is_called(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "none"})
        execution, _model = self.call("write_note", {"text": "Reorder A1"})
        self.assertEqual(execution.status, "ok")
        self.assertEqual(execution.output, {"result": "noted: Reorder A1"})
        self.assertEqual(self.calls, ["write_note"])

    def test_a_slow_tool_times_out(self):
        started = time.monotonic()
        execution, _model = self.call("slow", {})
        self.assertEqual(execution.status, "timeout")
        self.assertLess(time.monotonic() - started, 4.5)

    def test_a_malformed_result_is_a_tool_error(self):
        execution, _model = self.call("malformed", {})
        self.assertEqual(execution.status, "error")
        self.assertIn("malformed", execution.content)

    def test_a_10_mb_answer_is_refused_at_the_cap(self):
        execution, _model = self.call("big", {})
        self.assertEqual(execution.status, "error")
        self.assertIn("larger than 200000 bytes", execution.content)
        self.assertLess(len(execution.content or ""), 2000)

    def test_a_loopback_server_not_allowed_by_an_administrator_is_refused(self):
        tools = self.discover()
        self.agent.tool_ids = [(4, tools["read_stock"].id)]
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "")
        with self.assertRaisesRegex(UserError, "loopback"):
            self.server.action_discover_tools()
        model = self.script(tool_calls(("mcp_shop_read_stock", {"sku": "A1"})), reply("Sorry."))
        session = self.new_session()
        self.chat(session, "Ask the shop")
        model.assert_complete()
        self.assertEqual(session.execution_ids.status, "error")
        self.assertIn("loopback", session.execution_ids.content)
        self.assertEqual(self.calls, [])

    def test_only_administrators_configure_servers_or_read_their_headers(self):
        tool = self.discover()["read_stock"]
        for user in (self.user, self.manager):
            Server = self.env["aia.mcp.server"].with_user(user)
            with self.assertRaises(AccessError):
                Server.create({"name": "Evil", "code": "evil", "url": "http://169.254.169.254/mcp"})
            with self.assertRaises(AccessError):
                self.server.with_user(user).read(["headers"])
            with self.assertRaises(AccessError):
                self.server.with_user(user).write({"url": "http://evil.example/mcp"})
            with self.assertRaises(AccessError):
                self.server.with_user(user).action_discover_tools()
            with self.assertRaises(AccessError):
                tool.with_user(user).read(["mcp_server_id"])
        # An AI manager may edit tools, not tie one to another server or remote tool.
        as_manager = tool.with_user(self.manager)
        for values in ({"mcp_server_id": False}, {"mcp_tool_name": "write_note"}, {"mcp_read_only": True}):
            with self.assertRaises(AccessError):
                as_manager.write(values)
        with self.assertRaises(AccessError):
            self.env["aia.tool"].with_user(self.manager).create(
                {"name": "mcp_shop.fake", "kind": "mcp", "mcp_tool_name": "write_note", "mode": "read"}
            )
        self.assertEqual((self.server.url, tool.mcp_tool_name), (self.url, "read_stock"))

    def test_a_write_tool_stays_a_write_tool_whatever_its_row_says(self):
        tool = self.discover()["write_note"]
        # A manager's (or an import's) read mode does not take it out of shadow mode.
        tool.with_user(self.manager).write({"mode": "read"})
        self.assertEqual(tool.mode, "read")
        execution, _model = self.call("write_note", {"text": "Reorder A1"}, tool=tool)
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(self.calls, [])

    def test_copied_databases_lose_the_headers_and_the_servers(self):
        tool = self.discover()["read_stock"]
        self.env.flush_all()
        # As odoo-bin neutralize does it.
        for query in neutralize.get_neutralization_queries(["ai_mcp"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.cr.execute("SELECT headers, active FROM aia_mcp_server WHERE id = %s", [self.server.id])
        self.assertEqual(self.env.cr.fetchone(), (None, False))
        self.assertIsNone(tool._aia_spec())
