"""Knowledge reached other ways: the kb.search tool, records and web pages as sources, the
store's operations, and citations over the API."""

import json

from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from odoo.addons.ai_core import safe_fetch
from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls, unwrap_tool_result
from odoo.addons.ai_core.tests.fake_servers import LocalServer
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import aia_knowledge_base
from .common import RETURNS, KnowledgeCase, WebPages, perform_jobs


@tagged("post_install", "-at_install")
class TestKnowledgeSources(KnowledgeCase):
    # === ON DEMAND AND RECORDS === #

    def test_kb_search_tool_retrieves_on_demand_and_is_metered(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.agent.write({"knowledge_base_ids": [(6, 0, base.ids)], "knowledge_mode": "tool"})
        model = self.script(
            tool_calls(("kb_search", {"query": "how many days to return goods"})),
            reply("Within 30 days [1]."),
        )
        session = self.new_session()
        self.chat(session, "What is the return window?")
        # No passage before the question: the agent asked for them.
        self.assertEqual(model.requests[0].messages[-1].content[0].text, "What is the return window?")
        self.assertIn("kb_search", [tool.name for tool in model.requests[0].tools])
        execution = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("kb.search", "ok"))
        self.assertIn("within 30 days of delivery", execution.content)
        # The passages reach the model as plain data inside the one untrusted-data wrapper of tool
        # results: escaped once, not wrapped a second time as <knowledge> markup.
        [told] = model.requests[1].messages[-1].tool_results
        self.assertFalse(told.is_error)
        self.assertEqual(told.content.count("<tool_output "), 1)
        self.assertNotIn("&lt;", told.content)
        output = json.loads(unwrap_tool_result(told.content))
        passages = output["passages"]
        self.assertEqual([passage["n"] for passage in passages], list(range(1, len(passages) + 1)))
        self.assertEqual({passage["document"] for passage in passages}, {"Returns policy"})
        self.assertIn("within 30 days of delivery", " ".join(passage["text"] for passage in passages))
        self.assertNotIn("<passage", unwrap_tool_result(told.content))
        # The citations come back with the passages, numbered alike, and are kept on the answer.
        self.assertEqual([citation["n"] for citation in output["citations"]], [p["n"] for p in passages])
        self.assertEqual({citation["document_id"] for citation in output["citations"]}, {document.id})
        self.assertEqual(self.last_answer(session).citations, output["citations"])
        kb_queries = self.env["aia.usage.event"].search(
            [("session_id", "=", session.id), ("kind", "=", "kb_query")]
        )
        self.assertEqual(kb_queries.tool_name, "kb.search")

    def test_kb_search_numbers_go_on_across_the_calls_of_a_turn(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.agent.write({"knowledge_base_ids": [(6, 0, base.ids)], "knowledge_mode": "tool"})
        model = self.script(
            tool_calls(("kb_search", {"query": "how many days to return goods", "top_k": 1})),
            tool_calls(("kb_search", {"query": "when do orders ship", "top_k": 1})),
            reply("Within 30 days [1]; same day before noon [2]."),
        )
        session = self.new_session()
        self.chat(session, "Returns and shipping?")
        model.assert_complete()
        told = [
            json.loads(unwrap_tool_result(request.messages[-1].tool_results[0].content))
            for request in model.requests[1:]
        ]
        self.assertEqual([[p["n"] for p in output["passages"]] for output in told], [[1], [2]])
        self.assertEqual([[c["n"] for c in output["citations"]] for output in told], [[1], [2]])
        # The answer keeps both calls' citations, as [1] and [2] cite them.
        cited = self.last_answer(session).citations
        self.assertEqual([citation["n"] for citation in cited], [1, 2])
        self.assertEqual({citation["document_id"] for citation in cited}, {document.id})

    def test_records_are_indexed_and_resynced_when_they_change(self):
        partner = self.env["res.partner"].create(
            {"name": "Knowledge Test Supplier", "comment": "<p>Delivers pallets on Tuesdays only.</p>"}
        )
        base = self.make_base()
        source = self.add_source(
            base,
            {
                "name": "Suppliers",
                "source_type": "records",
                "res_model_id": self.env.ref("base.model_res_partner").id,
                "record_domain": "[('name', 'ilike', 'Knowledge Test')]",
                "field_ids": [(6, 0, self.env.ref("base.field_res_partner__comment").ids)],
            },
        )
        self.assertEqual((source.state, source.chunk_count), ("ready", 1))
        found = base._aia_search("which day are pallets delivered", self.company.id)
        self.assertIn("Delivers pallets on Tuesdays only.", found[0].text)
        self.assertIn("Knowledge Test Supplier", found[0].text)
        with trap_jobs() as trap:
            self.env["aia.knowledge.document"]._cron_sync_record_sources()
            trap.assert_jobs_count(0)
            partner.comment = "<p>Delivers pallets on Fridays now.</p>"
            partner.flush_recordset()
            self.env.cr.execute(
                "UPDATE res_partner SET write_date = now() + interval '1 minute' WHERE id = %s", [partner.id]
            )
            partner.invalidate_recordset()
            self.env["aia.knowledge.document"]._cron_sync_record_sources()
            trap.assert_jobs_count(1, only=source._aia_job_index)
            perform_jobs(self, trap)
        found = base._aia_search("which day are pallets delivered", self.company.id)
        self.assertIn("Fridays", found[0].text)

    def test_a_web_page_is_fetched_once_and_indexed(self):
        server = LocalServer(WebPages, hits=[], redirects={}).start()
        self.addCleanup(server.stop)
        # Loopback is refused to fetches unless the administrator opens it.
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1")
        base = self.make_base()
        document = self.add_source(
            base, {"name": "Showroom", "source_type": "url", "url": f"{server.url}/hours"}
        )
        self.assertEqual((document.state, document.file_format), ("ready", "html"))
        self.assertTrue(document.file)
        with trap_jobs() as trap:
            document.action_reindex()
            perform_jobs(self, trap)
        self.assertEqual(server.hits, ["/hours"])
        found = base._aia_search("when does the showroom open on saturday", self.company.id)
        self.assertIn("opens at 9:00 on Saturdays", found[0].text)
        self.assertTrue(found[0].text.startswith("Opening hours"))

    def test_a_neutralized_copy_loses_the_qdrant_server_key(self):
        base = self.make_base("qdrant_server", qdrant_url="http://127.0.0.1:1", qdrant_api_key="prod-key")
        self.env.flush_all()
        for query in neutralize.get_neutralization_queries(["ai_kb"]):
            self.env.cr.execute(query)
        self.env.cr.execute("SELECT qdrant_api_key FROM aia_knowledge_base WHERE id = %s", [base.id])
        self.assertIsNone(self.env.cr.fetchone()[0])

    def test_store_warning_names_the_alternatives_with_workers(self):
        base = self.make_base()
        self.patch(
            aia_knowledge_base.config, "get", lambda key, default=None: 4 if key == "workers" else default
        )
        base.invalidate_recordset(["store_warning"])
        self.assertIn("pgvector", base.store_warning)
        self.assertIn("Qdrant server", base.store_warning)


@tagged("post_install", "-at_install")
class TestKnowledgeApi(KnowledgeCase, HttpCase):
    def test_the_api_answer_carries_the_citations(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.agent.knowledge_base_ids = base
        self.script(reply("Within 30 days [1]."))
        response = self.call_api(
            "/aia/v1/agents/assistant/chat",
            {"message": "How long do customers have to return goods?"},
            key=self.api_key(self.user, "kb test"),
        )
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        self.assertEqual(data["citations"][0]["document_id"], document.id)
        self.assertEqual(data["citations"][0]["document_name"], "Returns policy")
        self.assertEqual(data["events"][-1]["citations"], data["citations"])
