"""Operations of knowledge bases: the Qdrant key encrypted at rest, agent versions with their bases."""

import importlib.metadata
import threading
import warnings

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.ai_core import secret_box
from odoo.addons.ai_core.ai_engine.testing import block_network
from odoo.addons.ai_core.tests.common import KEY, OperationsCase
from odoo.addons.ai_core.tests.fake_servers import LocalServer, QuietHandler

QDRANT_KEY = "qdrant-secret-key-0005"


class _Qdrant(QuietHandler):
    """The two answers of a Qdrant server a store's first count needs; records the API key."""

    def do_GET(self):
        self.server.received.append((self.path, self.headers.get("api-key")))
        if self.path == "/collections":
            payload = {"result": {"collections": []}, "status": "ok", "time": 0.0}
        else:
            version = importlib.metadata.version("qdrant-client")
            payload = {"title": "qdrant - vector search engine", "version": version}
            self.server.version_asked.set()
        self.send_json(200, payload)


@tagged("post_install", "-at_install")
class TestKnowledgeOperations(OperationsCase):
    def test_the_qdrant_key_is_encrypted_in_its_column_and_the_store_sends_it_in_clear(self):
        self.enterContext(block_network())
        server = LocalServer(_Qdrant, received=[], version_asked=threading.Event()).start()
        self.addCleanup(server.stop)
        self.server_key(KEY)
        base = self.env["aia.knowledge.base"].create(
            {
                "name": "On a Qdrant server",
                "vector_store": "qdrant_server",
                "qdrant_url": server.url,
                "qdrant_api_key": QDRANT_KEY,
            }
        )
        stored = self.raw("aia_knowledge_base", "qdrant_api_key", base.id)
        self.assertTrue(stored.startswith(secret_box.PREFIX))
        self.assertNotIn(QDRANT_KEY, stored)
        self.assertNotIn(QDRANT_KEY, base.qdrant_api_key)
        with self.assertRaises(AccessError):
            base.with_user(self.operator).read(["qdrant_api_key"])
        with warnings.catch_warnings():
            # qdrant-client warns about a key sent over plain http: this server is a test's.
            warnings.simplefilter("ignore")
            count = base._aia_store().count(company_id=base.company_id.id, knowledge_base_id=base.id)
            # The client checks the server's version in a thread of its own: let it finish here.
            server.version_asked.wait(5)
        self.assertEqual(count, 0)
        self.assertIn(("/collections", QDRANT_KEY), server.received)

    def test_the_settings_button_encrypts_a_qdrant_key_saved_before_the_server_key(self):
        self.server_key("")
        base = self.env["aia.knowledge.base"].create(
            {
                "name": "Saved before the key",
                "vector_store": "qdrant_server",
                "qdrant_url": "http://127.0.0.1:1",
                "qdrant_api_key": QDRANT_KEY,
            }
        )
        self.assertEqual(self.raw("aia_knowledge_base", "qdrant_api_key", base.id), QDRANT_KEY)
        self.server_key(KEY)
        self.env["res.config.settings"].create({}).action_aia_encrypt_secrets()
        stored = self.raw("aia_knowledge_base", "qdrant_api_key", base.id)
        self.assertTrue(stored.startswith(secret_box.PREFIX))
        self.assertEqual(secret_box.decrypt(stored), QDRANT_KEY)

    def test_agent_versions_snapshot_and_restore_the_knowledge_settings(self):
        agent = self.agent
        first = agent.version_ids.filtered(lambda v: v.version == agent.version)
        base = self.env["aia.knowledge.base"].create({"name": "Handbook"})
        agent.write({"knowledge_mode": "tool", "knowledge_base_ids": [(6, 0, base.ids)]})
        self.assertEqual(agent.version, 2)
        first.action_restore()
        self.assertEqual((agent.knowledge_mode, agent.knowledge_base_ids), ("auto", base.browse()))
        self.assertEqual(agent.version, 3)
