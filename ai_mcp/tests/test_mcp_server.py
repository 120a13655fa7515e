"""The MCP server driven by the official SDK's client over real HTTP (``mcp.Client`` on the
Streamable HTTP transport), as Claude Desktop or any MCP client reaches it: both protocol eras,
the tools an API key's user may call, and what a call does to the data, the audit and the ledger.
"""

import asyncio
import json

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import jsonrpc

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.api_case import ApiCase
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import mcp_wire as protocol

PATH = "/aia/mcp"


@tagged("post_install", "-at_install")
class TestMcpServer(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent.write({"shadow_mode": False, "approval_mode": "none"})
        cls.partner = cls.env["res.partner"].create({"name": "Mcp Customer", "comment": "Pays late."})

    def setUp(self):
        super().setUp()
        # A provider request fails the test (no step scripted): a tool call never makes one.
        self.script()

    # === HELPERS === #

    def mcp(self, work, key=None, mode="legacy", headers=None):
        """Run ``work(client)`` with an SDK client connected to the server with ``key`` (default:
        the user's) in ``mode`` (``legacy``: initialize; ``auto``: the SDK's default, which
        probes the 2026-07-28 protocol first); returns what ``work`` returns."""
        key = key or self.key
        url = self.base_url() + PATH

        async def run():
            sent = {"Authorization": f"Bearer {key}", **(headers or {})}
            async with httpx2.AsyncClient(headers=sent, timeout=60) as http:
                async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
                    return await work(client)

        self.env.flush_all()
        try:
            with self.allow_requests(all_requests=True):
                return asyncio.run(run())
        except Exception as exc:
            # The client's task groups wrap what failed: raise that.
            while getattr(exc, "exceptions", None) and len(exc.exceptions) == 1:
                exc = exc.exceptions[0]
            raise exc from None
        finally:
            self.env.invalidate_all()

    def call_tool(self, name, arguments, mode="legacy", key=None):
        async def work(client):
            return await client.call_tool(name, arguments)

        return self.mcp(work, key=key, mode=mode)

    def list_tools(self, key=None, mode="legacy"):
        async def work(client):
            return {tool.name: tool for tool in (await client.list_tools()).tools}

        return self.mcp(work, key=key, mode=mode)

    def post(self, body, key=None, headers=None):
        """A raw POST of ``body`` (bytes or JSON-able) to the server."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if key is not False:
            sent["Authorization"] = f"Bearer {key or self.key}"
        self.env.flush_all()
        return self.url_open(PATH, data=data, headers={**sent, **(headers or {})}, method="POST")

    def executions(self, tool_name):
        """The executions of ``tool_name`` by this test's users."""
        users = (self.user | self.user2 | self.user_b).ids
        return (
            self.env["aia.tool.execution"]
            .sudo()
            .search([("tool_name", "=", tool_name), ("user_id", "in", users)])
        )

    # === HANDSHAKE AND LISTING === #

    def test_initialize_names_the_server_and_its_tools_capability(self):
        async def work(client):
            return client.protocol_version, client.server_info, client.server_capabilities

        version, info, capabilities = self.mcp(work)
        self.assertEqual(version, protocol.version.LATEST_HANDSHAKE_VERSION)
        self.assertEqual(info.name, "odoo-aia")
        self.assertIsNotNone(capabilities.tools)
        self.assertIsNone(capabilities.resources)

    def test_the_sdk_default_speaks_the_2026_protocol(self):
        async def work(client):
            listed = await client.list_tools()
            result = await client.call_tool(
                "assistant.orm.count", {"model": "res.partner", "domain": [["id", "=", self.partner.id]]}
            )
            return client.protocol_version, [tool.name for tool in listed.tools], result

        version, names, result = self.mcp(work, mode="auto")
        self.assertEqual(version, "2026-07-28")
        self.assertIn("assistant.orm.count", names)
        self.assertFalse(result.is_error, result.content)
        self.assertEqual(result.structured_content["count"], 1)

    def test_tools_list_names_each_agent_tool_and_the_agent_with_truthful_annotations(self):
        self.agent.shadow_mode = True
        tools = self.list_tools()
        # (The agents of the installed packs are listed too, each under its own code.)
        self.assertEqual(
            {name for name in tools if name.startswith("assistant.")},
            {f"assistant.{tool.name}" for tool in self.agent.tool_ids} | {"assistant.ask"},
        )
        read = tools["assistant.orm.search_read"]
        self.assertTrue(read.annotations.read_only_hint)
        self.assertFalse(read.annotations.destructive_hint)
        self.assertTrue(read.annotations.idempotent_hint)
        self.assertEqual(read.input_schema["required"], ["model"])
        # In shadow mode a write tool writes nothing: the call is a read.
        self.assertTrue(tools["assistant.orm.write"].annotations.read_only_hint)
        self.agent.shadow_mode = False
        tools = self.list_tools()
        write = tools["assistant.orm.write"]
        self.assertFalse(write.annotations.read_only_hint)
        self.assertTrue(write.annotations.destructive_hint)
        self.assertFalse(write.annotations.idempotent_hint)
        self.assertFalse(tools["assistant.ask"].annotations.read_only_hint)
        # A read-only agent offers no write tool, here as to its model.
        self.agent.read_only = True
        tools = self.list_tools()
        self.assertNotIn("assistant.orm.write", tools)
        self.assertTrue(tools["assistant.ask"].annotations.read_only_hint)

    # === CALLS === #

    def test_a_read_tool_answers_what_odoo_counts_and_leaves_an_audit_and_a_ledger_row(self):
        domain = [["is_company", "=", False]]
        result = self.call_tool("assistant.orm.count", {"model": "res.partner", "domain": domain})
        self.assertFalse(result.is_error, result.content)
        expected = self.env["res.partner"].with_user(self.user).search_count([("is_company", "=", False)])
        self.assertEqual(result.structured_content["count"], expected)
        self.assertEqual(json.loads(result.content[0].text)["count"], expected)
        execution = self.executions("orm.count")
        self.assertEqual(len(execution), 1)
        self.assertEqual((execution.status, execution.user_id), ("ok", self.user))
        session = execution.session_id
        self.assertEqual((session.channel, session.user_id, session.agent_id), ("mcp", self.user, self.agent))
        ledger = session.usage_event_ids.filtered(lambda row: row.kind == "tool_call")
        self.assertEqual(ledger.mapped("tool_name"), ["orm.count"])
        self.assertEqual(session.total_cost, 0)

    def test_a_write_runs_as_the_user_when_neither_shadow_nor_approval_holds_it(self):
        result = self.call_tool(
            "assistant.orm.write",
            {"model": "res.partner", "ids": [self.partner.id], "values": {"comment": "Paid."}},
        )
        self.assertFalse(result.is_error, result.content)
        self.assertEqual(self.partner.comment, "<p>Paid.</p>")
        self.assertEqual(self.partner.write_uid, self.user)

    def test_a_shadowed_write_returns_its_preview_and_writes_nothing(self):
        self.agent.shadow_mode = True
        result = self.call_tool(
            "assistant.orm.write",
            {"model": "res.partner", "ids": [self.partner.id], "values": {"comment": "Paid."}},
        )
        self.assertFalse(result.is_error)
        self.assertIn("Not executed (shadow mode)", result.content[0].text)
        self.assertIn("Mcp Customer", result.content[0].text)
        self.assertEqual(result.structured_content["executed"], False)
        self.assertEqual(self.partner.comment, "<p>Pays late.</p>")
        self.assertEqual(self.executions("orm.write").status, "shadowed")

    def test_an_approval_gated_write_waits_and_runs_once_approved(self):
        self.agent.write({"approval_mode": "write", "approver_id": self.operator.id})
        result = self.call_tool(
            "assistant.orm.write",
            {"model": "res.partner", "ids": [self.partner.id], "values": {"comment": "Paid."}},
        )
        self.assertFalse(result.is_error)
        approval = self.env["aia.approval"].browse(result.structured_content["approval_id"])
        self.assertEqual((approval.state, approval.tool_name), ("pending", "orm.write"))
        self.assertIn(f"awaits approval #{approval.id}", result.content[0].text)
        self.assertEqual(self.partner.comment, "<p>Pays late.</p>")
        session = approval.session_id
        self.assertEqual(session.state, "waiting_approval")
        # The approver decides; the held write runs as the requester, no provider is called.
        model = self.script()  # any provider request would fail the test
        with trap_jobs() as trap:
            approval.with_user(self.operator).action_approve()
            trap.assert_jobs_count(1, only=session._aia_job_resume)
            perform_jobs(self, trap)
        self.assertFalse(model.requests)
        session.invalidate_recordset()
        self.assertEqual(session.state, "done", session.error_message)
        self.assertEqual(self.partner.comment, "<p>Paid.</p>")
        self.assertEqual(self.partner.write_uid, self.user)
        self.assertEqual(session.state, "done")

    def test_ask_puts_the_question_to_the_agent_and_returns_its_answer(self):
        model = self.script(reply("Mcp Customer pays late."))
        result = self.call_tool("assistant.ask", {"question": "Who pays late?"})
        self.assertFalse(result.is_error, result.content)
        self.assertEqual(result.content[0].text, "Mcp Customer pays late.")
        self.assertEqual(result.structured_content["citations"], [])
        self.assertEqual(len(model.requests), 1)
        session = self.env["aia.session"].browse(result.structured_content["session_id"])
        self.assertEqual((session.user_id, session.channel, session.state), (self.user, "mcp", "done"))

    # === REFUSALS === #

    def test_a_model_the_agent_may_not_read_is_an_error_result_and_nothing_is_read(self):
        result = self.call_tool("assistant.orm.search_read", {"model": "res.users", "fields": ["login"]})
        self.assertTrue(result.is_error)
        self.assertIn("res.users", result.content[0].text)
        self.assertNotIn("admin", result.content[0].text)
        self.assertEqual(self.executions("orm.search_read").status, "error")

    def test_a_write_the_user_has_no_right_to_is_denied_as_in_the_chat(self):
        # user2 is an AI user without the contact creation rights of base.group_partner_manager.
        result = self.call_tool(
            "assistant.orm.write",
            {"model": "res.partner", "ids": [self.partner.id], "values": {"comment": "Paid."}},
            key=self.key2,
        )
        self.assertTrue(result.is_error)
        self.assertEqual(self.executions("orm.write").status, "denied")
        self.assertEqual(self.partner.comment, "<p>Pays late.</p>")

    def test_invalid_arguments_are_an_error_result_and_nothing_runs(self):
        result = self.call_tool("assistant.orm.count", {"model": "res.partner", "limit": "all"})
        self.assertTrue(result.is_error)
        self.assertIn("Invalid arguments", result.content[0].text)

    def test_a_user_of_another_company_sees_and_calls_nothing_of_this_company_agent(self):
        self.agent.company_id = self.company
        key_b = self.api_key(self.user_b)
        self.assertFalse([name for name in self.list_tools(key=key_b) if name.startswith("assistant.")])
        with self.assertRaises(MCPError) as caught:
            self.call_tool("assistant.orm.count", {"model": "res.partner"}, key=key_b)
        self.assertEqual(caught.exception.code, jsonrpc.INVALID_PARAMS)
        self.assertFalse(self.executions("orm.count"))

    def test_a_key_of_a_user_who_is_no_ai_user_is_refused(self):
        plain = self.make_user("mcp_plain")
        response = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, key=self.api_key(plain))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"]["code"], protocol.FORBIDDEN)

    def test_the_key_may_come_as_x_api_key_and_an_older_client_keeps_its_version(self):
        async def work(client):
            return client.protocol_version, [tool.name for tool in (await client.list_tools()).tools]

        version, names = self.mcp(work, headers={"Authorization": "", "X-API-Key": self.key})
        self.assertIn("assistant.ask", names)
        response = self.post(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-03-26",
                    "capabilities": {},
                    "clientInfo": {"name": "old", "version": "1"},
                },
            }
        )
        self.assertEqual(response.json()["result"]["protocolVersion"], "2025-03-26")
        self.assertNotIn("Mcp-Session-Id", response.headers)

    def test_a_wrong_key_is_an_mcp_error_and_a_401(self):
        with self.assertRaises(Exception) as caught:
            self.mcp(lambda client: client.list_tools(), key="not-a-key")
        self.assertIn(
            "valid API key", str(caught.exception) + repr(getattr(caught.exception, "exceptions", ""))
        )
        response = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, key="not-a-key")
        self.assertEqual(response.status_code, 401)
        error = response.json()
        self.assertEqual((error["jsonrpc"], error["error"]["code"]), ("2.0", protocol.UNAUTHORIZED))
        self.assertIn("WWW-Authenticate", response.headers)

    def test_the_kill_switch_answers_a_clear_error(self):
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        response = self.post(
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {"name": "assistant.orm.count", "arguments": {"model": "res.partner"}},
            }
        )
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"]["code"], protocol.AGENTS_DISABLED)
        self.assertIn("temporarily unavailable", response.json()["error"]["message"])
        self.assertFalse(self.executions("orm.count"))

    def test_the_rate_limit_of_the_key_user_is_an_mcp_error_with_retry_after(self):
        self.env["ir.config_parameter"].set_param("aia.api_rate_limit_per_minute", "1")
        self.assertEqual(self.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code, 200)
        refused = self.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        self.assertEqual(refused.status_code, 429)
        self.assertEqual(refused.json()["error"]["code"], protocol.RATE_LIMITED)
        self.assertGreaterEqual(int(refused.headers["Retry-After"]), 1)
        # Another user's key is counted apart.
        self.assertEqual(
            self.post({"jsonrpc": "2.0", "id": 3, "method": "ping"}, key=self.key2).status_code, 200
        )

    def test_hostile_messages_get_errors_and_run_nothing(self):
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "assistant.orm.count", "arguments": {"model": "res.partner"}},
        }
        batch = self.post([call, dict(call, id=2)])
        self.assertEqual(batch.status_code, 400)
        self.assertEqual(batch.json()["error"]["code"], jsonrpc.INVALID_REQUEST)
        huge = self.post(
            b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "'
            + b"a" * (2 * 1024 * 1024)
            + b'"}}'
        )
        self.assertEqual(huge.status_code, 413)
        self.assertEqual(self.post(b"{not json").json()["error"]["code"], jsonrpc.PARSE_ERROR)
        unknown = self.post({"jsonrpc": "2.0", "id": 3, "method": "resources/list"})
        self.assertEqual(unknown.json()["error"]["code"], jsonrpc.METHOD_NOT_FOUND)
        self.assertEqual(unknown.json()["id"], 3)
        unlisted = self.post(dict(call, params={"name": "assistant.orm.unlink", "arguments": {}}))
        self.assertEqual(unlisted.json()["error"]["code"], jsonrpc.INVALID_PARAMS)
        bad_params = self.post(dict(call, params={"arguments": {}}))
        self.assertEqual(bad_params.json()["error"]["code"], jsonrpc.INVALID_PARAMS)
        old = self.post(
            {"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers={"MCP-Protocol-Version": "1999-01-01"}
        )
        self.assertEqual(old.json()["error"]["code"], jsonrpc.INVALID_REQUEST)
        foreign = self.post(
            {"jsonrpc": "2.0", "id": 5, "method": "ping"}, headers={"Origin": "https://evil.example"}
        )
        self.assertEqual((foreign.status_code, foreign.json()["error"]["code"]), (403, protocol.FORBIDDEN))
        notification = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.assertEqual(notification.status_code, 202)
        self.assertFalse(self.executions("orm.count"))
        self.assertEqual(self.url_open(PATH).status_code, 405)
