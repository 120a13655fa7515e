"""The fetch rules seen from knowledge bases: web pages of documents go through the suite's one
outbound fetch, and only administrators choose a new Qdrant server URL."""

import socket

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.ai_core import safe_fetch
from odoo.addons.ai_core.ai_engine.testing import block_network
from odoo.addons.ai_core.tests.fake_servers import LocalServer

from .common import KnowledgeCase, WebPages

METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@tagged("post_install", "-at_install")
class TestWebPageAddresses(KnowledgeCase):
    """Web-page documents added by an AI manager who is not an administrator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A web page, and redirects from it to internal addresses.
        cls.server = LocalServer(WebPages, hits=[], redirects={}).start()
        cls.addClassCleanup(cls.server.stop)
        cls.port = cls.server.port
        cls.server.redirects.update(
            {
                "/to-loopback": f"http://127.0.0.1:{cls.port}/page",
                "/to-mapped-loopback": f"http://[::ffff:127.0.0.1]:{cls.port}/page",
                "/to-metadata": METADATA_URL,
            }
        )
        cls.manager = cls.make_user("aia_kb_manager", "ai_core.group_aia_manager")

    def setUp(self):
        super().setUp()
        self.server.hits.clear()
        self.enterContext(block_network())
        self.base = self.make_base()

    def allow(self, hosts):
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, hosts)

    def web_page(self, url):
        """The manager adds ``url`` as a document; its indexing job runs as the manager."""
        self.assertFalse(self.manager.has_group("base.group_system"))
        return self.add_source(
            self.base, {"name": "Showroom", "source_type": "url", "url": url}, self.manager
        )

    def test_loopback_and_the_odoo_database_manager_are_refused_by_default(self):
        urls = [
            f"http://127.0.0.1:{self.port}/page",
            f"http://localhost:{self.port}/page",
            f"http://[::ffff:127.0.0.1]:{self.port}/page",
            f"http://127.0.0.1:{config['http_port']}/web/database/manager",
        ]
        for url in urls:
            with self.subTest(url=url):
                document = self.web_page(url)
                self.assertEqual(document.state, "error")
                self.assertIn("is a loopback address: the request was refused", document.error_message)
                self.assertIn(safe_fetch.ALLOWED_HOSTS_PARAM, document.error_message)
                self.assertFalse(document.file)
                self.assertEqual(self.server.hits, [])

    def test_the_metadata_service_is_refused(self):
        document = self.web_page(METADATA_URL)
        self.assertEqual(document.state, "error")
        self.assertIn("169.254.169.254 is a cloud metadata address", document.error_message)

    def test_a_redirect_from_an_allowed_host_to_an_internal_address_is_refused(self):
        # The administrator opened the host name localhost, not the address 127.0.0.1.
        self.allow("localhost")
        document = self.web_page(f"http://localhost:{self.port}/page")
        self.assertEqual(document.state, "ready")
        self.assertEqual(self.server.hits, ["/page"])
        refusals = {
            "/to-loopback": "127.0.0.1 is a loopback address",
            "/to-mapped-loopback": "is a loopback address",
            "/to-metadata": "169.254.169.254 is a cloud metadata address",
        }
        for path, reason in refusals.items():
            with self.subTest(path=path):
                self.server.hits.clear()
                document = self.web_page(f"http://localhost:{self.port}{path}")
                self.assertEqual(document.state, "error")
                self.assertIn(reason, document.error_message)
                self.assertEqual(self.server.hits, [path])

    def test_the_address_checked_is_the_address_connected(self):
        # DNS rebinding: the name answers an allowed address to the check, then the metadata
        # service. The fetch looks the name up once and connects to what it checked.
        self.allow("127.0.0.1")
        lookups = []
        resolve = socket.getaddrinfo

        def rebinding(host, port, *args, **kwargs):
            if host != "rebind.example":
                return resolve(host, port, *args, **kwargs)
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        self.patch(socket, "getaddrinfo", rebinding)
        document = self.web_page(f"http://rebind.example:{self.port}/page")
        self.assertEqual((document.state, document.file_format), ("ready", "html"), document.error_message)
        self.assertEqual(lookups, ["rebind.example"])
        self.assertEqual(self.server.hits, ["/page"])


@tagged("post_install", "-at_install")
class TestQdrantServerUrl(KnowledgeCase):
    """The Qdrant client connects by itself, outside the outbound fetch: where it connects is an
    administrator's choice, like a provider's base URL."""

    def test_only_administrators_point_a_base_at_a_new_qdrant_server(self):
        manager = self.make_user("aia_kb_manager_q", "ai_core.group_aia_manager")
        internal = "http://127.0.0.1:6333"
        with self.assertRaises(AccessError):
            self.env["aia.knowledge.base"].with_user(manager).create(
                {"name": "Internal", "vector_store": "qdrant_server", "qdrant_url": internal}
            )
        base = self.make_base()
        with self.assertRaises(AccessError):
            base.with_user(manager).write({"vector_store": "qdrant_server", "qdrant_url": internal})
        # An administrator sets it; a manager may then reuse that server for another base.
        base.write({"vector_store": "qdrant_server", "qdrant_url": internal})
        other = (
            self.env["aia.knowledge.base"]
            .with_user(manager)
            .create({"name": "Reuses it", "vector_store": "qdrant_server", "qdrant_url": internal})
        )
        self.assertEqual(other.qdrant_url, internal)
