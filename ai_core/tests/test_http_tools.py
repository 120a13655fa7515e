import json
import logging
import threading
import time
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from .. import safe_fetch, secret_box
from ..ai_engine.testing import block_network, reply, tool_calls, unwrap_tool_result
from ..logging_filter import REDACTED
from .common import AiaCase
from .fake_servers import LocalServer, QuietHandler

SECRET = "hdr-secret-7c1e-never-shown"
ITEMS = {"42": {"id": "42", "name": "Oak chair", "stock": 3}}


class _Handler(QuietHandler):
    """A small API: items as JSON, plus the misbehaviours a tool must survive."""

    def do_GET(self):
        server = self.server
        server.received.append({"path": self.path, "headers": dict(self.headers)})
        path = self.path.split("?", 1)[0]
        if path.startswith("/items/"):
            item = ITEMS.get(path.removeprefix("/items/"))
            return self.send_json(200 if item else 404, item or {"error": "no such item"})
        if path == "/echo-headers":
            return self.send_json(200, {"you_sent": dict(self.headers)})
        if path == "/denied":
            return self.send_json(401, {"error": f"bad key {self.headers.get('X-Api-Key')}"})
        if path == "/big":
            return self.send_json(200, {"blob": "x" * 5000})
        if path == "/big-unsized":
            # No Content-Length: the cap must hold while streaming.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"blob": "x" * 50_000}).encode())
            return None
        if path == "/slow":
            server.release.wait(10)
            return self.send_json(200, {"late": True})
        if path == "/drip":
            # Each byte comes quickly, the whole body never does.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                if server.release.wait(0.1):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
            return None
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://elsewhere.example/")
            self.end_headers()
            return None
        return self.send_json(404, {"error": "unknown path"})


@tagged("post_install", "-at_install")
class TestHttpTools(AiaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = LocalServer(_Handler, received=[], release=threading.Event()).start()
        cls.base = cls.server.url
        cls.addClassCleanup(cls.server.stop)
        cls.addClassCleanup(cls.server.release.set)  # first: the slow answers let go

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        # Encrypted at rest: the handler gets the header through the choke point's decryption.
        self.enterContext(patch.dict(config._runtime_options, {secret_box.CONFIG_KEY: "http-tools-test-key"}))
        self.enterContext(block_network())
        # The test server listens on loopback, which an administrator has to open to fetches.
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1")

    def http_tool(self, path, **values):
        tool = self.env["aia.tool"].create(
            {
                "name": "shop.get_item",
                "label": "GetItem",
                "kind": "http",
                "description": "Read an item of the shop.",
                "http_url": self.base + path,
                "http_allowed_domains": "127.0.0.1",
                "http_headers": {"X-Api-Key": SECRET},
                "input_schema": {
                    "type": "object",
                    "properties": {"item_id": {"type": "string"}, "verbose": {"type": "boolean"}},
                },
                **values,
            }
        )
        self.agent.tool_ids = [(4, tool.id)]
        return tool

    def call(self, arguments, answer="Done."):
        """One turn where the model calls the HTTP tool once; returns (execution, scripted model)."""
        model = self.script(tool_calls(("shop_get_item", arguments)), reply(answer))
        session = self.new_session()
        self.chat(session, "Look it up")
        model.assert_complete()
        return session.execution_ids, model

    def assert_never_shown(self, execution):
        audit = json.dumps([execution.arguments, execution.output, execution.content, execution.preview])
        self.assertNotIn(SECRET, audit)

    def test_the_json_answer_of_an_allowed_host_reaches_the_model(self):
        self.http_tool("/items/{item_id}")
        execution, model = self.call({"item_id": "42", "verbose": True}, "Item 42 is an oak chair.")
        self.assertEqual(execution.status, "ok")
        self.assertEqual(execution.output, ITEMS["42"])
        [received] = self.server.received
        # The placeholder fills the path and is not repeated in the query.
        self.assertEqual(received["path"], "/items/42?verbose=True")
        self.assertEqual(received["headers"]["X-Api-Key"], SECRET)
        tool_message = model.requests[1].messages[-1]
        self.assertEqual(json.loads(unwrap_tool_result(tool_message.tool_results[0].content)), ITEMS["42"])
        self.assertEqual(execution.session_id.last_text, "Item 42 is an oak chair.")
        self.assert_never_shown(execution)

    def test_a_host_outside_the_allowlist_is_refused_before_any_request(self):
        self.http_tool("/items/{item_id}", http_allowed_domains="api.example.com")
        execution, _model = self.call({"item_id": "42"})
        self.assertEqual(execution.status, "error")
        self.assertIn("host '127.0.0.1' is not in this tool's allowed domains", execution.content)
        self.assertEqual(self.server.received, [])

    def test_arguments_cannot_rewrite_the_path_or_the_host(self):
        self.http_tool("/items/{item_id}")
        execution, _model = self.call({"item_id": "../echo-headers?x=@elsewhere.example"})
        [received] = self.server.received
        self.assertEqual(received["path"], "/items/..%2Fecho-headers%3Fx%3D%40elsewhere.example")
        self.assertEqual(execution.status, "error")
        self.assertIn("HTTP 404", execution.content)

    def test_responses_above_the_size_cap_are_refused(self):
        for path in ("/big", "/big-unsized"):
            with self.subTest(path=path):
                tool = self.http_tool(path, http_max_bytes=1000)
                execution, _model = self.call({})
                self.assertEqual(execution.status, "error")
                self.assertIn("larger than 1000 bytes", execution.content)
                self.agent.tool_ids = [(3, tool.id)]
                tool.unlink()

    def test_the_timeout_bounds_the_whole_call_even_when_bytes_trickle_in(self):
        # Odoo's test harness raises requests' own timeouts to 10 s: the 1 s here is the tool's.
        for path in ("/slow", "/drip"):
            with self.subTest(path=path):
                tool = self.http_tool(path, http_timeout=1)
                started = time.monotonic()
                execution, _model = self.call({})
                self.assertLess(time.monotonic() - started, 5)
                self.assertEqual(execution.status, "timeout")
                self.assertIn("within 1 s", execution.content)
                self.agent.tool_ids = [(3, tool.id)]
                tool.unlink()

    def test_redirects_are_not_followed(self):
        self.http_tool("/redirect")
        execution, _model = self.call({})
        self.assertEqual(execution.status, "error")
        self.assertIn("HTTP 302: redirects are not followed", execution.content)

    def test_the_secret_header_is_sent_but_never_audited_logged_or_read_back(self):
        self.http_tool("/echo-headers")
        loggers = [
            logging.getLogger(name) for name in ("urllib3", "odoo.addons.ai_core", "odoo.addons.queue_job")
        ]
        seen = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = lambda record: seen.append(logging.Formatter().format(record))
        for logger in loggers:
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)
            logger.addHandler(handler)
            self.addCleanup(logger.removeHandler, handler)
        # A model echoing the header's name as an argument: redacted in the audit all the same.
        execution, model = self.call({"item_id": "42", "X-Api-Key": "made-up-by-the-model"})

        self.assertEqual(self.server.received[0]["headers"]["X-Api-Key"], SECRET)
        self.assertEqual(execution.status, "ok")
        # The server echoed it: masked in what the model read and in the audit.
        self.assertEqual(execution.output["you_sent"]["X-Api-Key"], REDACTED)
        told = json.loads(unwrap_tool_result(model.requests[1].messages[-1].tool_results[0].content))
        self.assertEqual(told["you_sent"]["X-Api-Key"], REDACTED)
        self.assertNotIn(SECRET, str(model.requests[1].messages))
        self.assertEqual(execution.arguments["X-Api-Key"], REDACTED)
        self.assert_never_shown(execution)
        self.assertTrue(seen, "the loggers were listened to")
        self.assertNotIn(SECRET, "\n".join(seen))

    def test_an_error_page_quoting_the_header_is_masked(self):
        self.http_tool("/denied")
        execution, _model = self.call({})
        self.assertEqual(execution.status, "error")
        self.assertIn("HTTP 401", execution.content)
        self.assertIn(f"bad key {REDACTED}", execution.content)
        self.assert_never_shown(execution)

    def test_an_ai_manager_cannot_point_a_tool_at_loopback_unless_an_administrator_allows_it(self):
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, False)
        manager = self.make_user("aia_tool_manager", "ai_core.group_aia_manager")
        self.assertFalse(manager.has_group("base.group_system"))
        port = self.server.server_address[1]
        # The same loopback server under the spellings an attacker would try.
        urls = {
            "127.0.0.1": f"http://127.0.0.1:{port}/items/{{item_id}}",
            "localhost": f"http://localhost:{port}/items/{{item_id}}",
            "::ffff:127.0.0.1": f"http://[::ffff:127.0.0.1]:{port}/items/{{item_id}}",
        }
        for host, url in urls.items():
            with self.subTest(host=host):
                tool = (
                    self.env["aia.tool"]
                    .with_user(manager)
                    .create(
                        {
                            "name": "shop.get_item",
                            "kind": "http",
                            "http_url": url,
                            "http_allowed_domains": host,
                            "input_schema": {"type": "object", "properties": {"item_id": {"type": "string"}}},
                        }
                    )
                )
                self.agent.tool_ids = [(4, tool.id)]
                execution, _model = self.call({"item_id": "42"})
                self.assertEqual(execution.status, "error")
                self.assertIn("is a loopback address: the request was refused", execution.content)
                self.assertIn(safe_fetch.ALLOWED_HOSTS_PARAM, execution.content)
                self.assertEqual(self.server.received, [])
                self.agent.tool_ids = [(3, tool.id)]
                tool.with_user(manager).unlink()
        # Opening an address is an administrator's decision, not the manager's.
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(manager).set_param(
                safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1"
            )
