import base64
import json
import tempfile
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo.exceptions import AccessError, ValidationError
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from odoo.addons.ai_core import safe_fetch
from odoo.addons.ai_core.ai_engine.rag import pgvector_status
from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls, unwrap_tool_result
from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import vector_stores
from ..models import aia_knowledge_base

RETURNS = b"""# Returns policy

Customers may return goods within 30 days of delivery, with the receipt. Refunds are paid to the
original payment method within five working days.

# Shipping

Orders placed before noon ship the same working day from the Lyon warehouse.
"""
REFUSED = b"Refunds: goods are never taken back once delivered; every sale is final."


class KnowledgeCase(AiaCase):
    """Knowledge-base factories on top of the agent factories."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Embedded Qdrant in memory: nothing outlives the test's rolled-back transaction.
        cls.env["ir.config_parameter"].sudo().set_param(vector_stores.QDRANT_PATH_PARAM, ":memory:")

    def setUp(self):
        super().setUp()
        vector_stores._stores.clear()
        self.addCleanup(vector_stores._stores.clear)

    def make_base(self, store="qdrant_local", company=None, **values):
        return self.env["aia.knowledge.base"].create(
            {
                "name": f"Handbook ({store})",
                "vector_store": store,
                "company_id": (company or self.company).id,
                "chunk_size": 200,
                "chunk_overlap": 20,
                **values,
            }
        )

    def upload(self, base, file_name, data, name=None):
        return base.env["aia.knowledge.document"].create(
            {
                "name": name or file_name,
                "knowledge_base_id": base.id,
                "file": base64.b64encode(data),
                "file_name": file_name,
            }
        )

    def indexed(self, base, *files):
        """Upload ``files`` ((file name, bytes, title), ...) and run their indexing jobs."""
        with trap_jobs() as trap:
            documents = self.env["aia.knowledge.document"]
            for file_name, data, title in files:
                documents |= self.upload(base, file_name, data, title)
            trap.assert_jobs_count(len(files))
            self.assertEqual(set(documents.mapped("state")), {"queued"})
            perform_jobs(self, trap)
        documents.invalidate_recordset()
        return documents

    def last_answer(self, session):
        return session.message_ids_aia.filtered(lambda m: m.role == "assistant").sorted("id")[-1]


@tagged("post_install", "-at_install")
class TestKnowledge(KnowledgeCase):
    # === PIPELINE === #

    def test_upload_index_and_an_answer_cites_the_document(self):
        if pgvector_status(self.env.cr) == "missing":
            self.skipTest("PostgreSQL has no pgvector here")
        base = self.make_base("pgvector")
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.assertEqual((document.state, document.progress, document.file_format), ("ready", 100, "md"))
        self.assertGreaterEqual(document.chunk_count, 1)
        store = base._aia_store()
        self.assertEqual(
            store.count(company_id=self.company.id, knowledge_base_id=base.id), document.chunk_count
        )

        self.agent.knowledge_base_ids = base
        model = self.script(reply("Goods can be returned within 30 days [1]."))
        session = self.new_session()
        self.chat(session, "How long do customers have to return goods?")

        opening = model.requests[0].messages[-1]
        self.assertTrue(opening.content[0].text.startswith("<knowledge>"))
        self.assertIn("within 30 days of delivery", opening.content[0].text)
        self.assertEqual(opening.content[-1].text, "How long do customers have to return goods?")
        answer = self.last_answer(session)
        self.assertEqual(answer.citations[0]["document_id"], document.id)
        self.assertEqual(answer.citations[0]["document_name"], "Returns policy")
        self.assertEqual(answer.citations[0]["n"], 1)
        self.assertEqual(session.chat_data()["messages"][-1]["citations"], answer.citations)
        # The saved user message holds the user's words only.
        user_message = session.message_ids_aia.filtered(lambda m: m.role == "user")
        self.assertNotIn("<knowledge>", user_message.body)
        # The done event pushed to the browser carries the citations.
        done = [event for event in self.pushed_events(session) if event["type"] == "done"]
        self.assertEqual(done[-1]["citations"][0]["document_id"], document.id)
        usage = self.env["aia.usage.event"].search(
            [("session_id", "=", session.id), ("kind", "=", "kb_query")]
        )
        self.assertEqual(len(usage), 1)
        self.assertEqual(
            (usage.company_id, usage.model_name, usage.status), (self.company, "all-MiniLM-L6-v2", "ok")
        )
        self.assertFalse(usage.tool_name)

    def test_bad_files_fail_alone_and_empty_files_are_refused(self):
        base = self.make_base()
        good, corrupt, unsupported = self.indexed(
            base,
            ("returns.md", RETURNS, "good"),
            ("scan.pdf", b"%PDF-1.4 garbage that is not a PDF", "corrupt"),
            ("prices.xlsx", b"PK\x03\x04 spreadsheet", "unsupported"),
        ).sorted("id")
        self.assertEqual(good.state, "ready")
        self.assertEqual(corrupt.state, "error")
        self.assertIn("PDF file cannot be read", corrupt.error_message)
        self.assertEqual(unsupported.state, "error")
        self.assertIn("Unsupported file type .xlsx", unsupported.error_message)
        with self.assertRaisesRegex(ValidationError, "is empty"):
            self.upload(base, "empty.txt", b"")
        blank = self.indexed(base, ("blank.txt", b"   \n\n  ", "blank"))
        self.assertEqual(blank.state, "error")
        self.assertIn("no text", blank.error_message)

    def test_reindex_and_delete_replace_a_documents_vectors(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        store = base._aia_store()
        scope = {"company_id": self.company.id, "knowledge_base_id": base.id}
        self.assertEqual(store.count(**scope, document_id=document.id), document.chunk_count)
        with trap_jobs() as trap:
            document.write({"file": base64.b64encode(b"Only one line now."), "file_name": "short.txt"})
            perform_jobs(self, trap)
        self.assertEqual((document.state, document.chunk_count), ("ready", 1))
        self.assertEqual(store.count(**scope), 1)
        document.unlink()
        self.assertEqual(store.count(**scope), 0)

    def test_changing_the_embedding_model_reindexes_the_base(self):
        from sentence_transformers import SentenceTransformer

        try:
            from sentence_transformers.sentence_transformer.modules import Dense
        except ImportError:  # sentence-transformers 5
            from sentence_transformers.models import Dense

        from odoo.addons.ai_core.ai_engine.rag import get_embedder

        small = get_embedder("all-MiniLM-L6-v2").model
        folder = tempfile.mkdtemp(prefix="aia-768-")
        SentenceTransformer(modules=[*small, Dense(384, 768)], device="cpu").save(folder)
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        with trap_jobs() as trap:
            base.embedding_model = folder
            trap.assert_jobs_count(1, only=document._aia_job_index)
            perform_jobs(self, trap)
        self.assertEqual(document.state, "ready")
        found = base._aia_search("return goods", self.company.id)
        self.assertTrue(found and found[0].document_id == document.id)
        collections = {c.name for c in base._aia_store().client.get_collections().collections}
        prefix = vector_stores.store_prefix(self.env)
        self.assertEqual(collections, {f"{prefix}_c{self.company.id}_kb{base.id}_d768"})
        with self.assertRaisesRegex(ValidationError, "not installed"):
            base.embedding_model = "/nowhere/no-model"

    # === ISOLATION AND ACCESS === #

    def test_a_company_only_ever_gets_its_own_passages(self):
        base_a = self.make_base()
        base_b = self.make_base(company=self.other_company)
        doc_a = self.indexed(base_a, ("returns.md", RETURNS, "Returns A"))
        doc_b = self.indexed(base_b, ("refunds.txt", REFUSED, "Refunds B"))
        self.agent.knowledge_base_ids = base_a | base_b
        self.script(reply("30 days [1]."), reply("Never [1]."))
        session_a = self.new_session()
        self.chat(session_a, "Can customers get a refund?")
        session_b = self.new_session(user=self.user_b, company_id=self.other_company.id)
        self.chat(session_b, "Can customers get a refund?")
        self.assertEqual({c["document_id"] for c in self.last_answer(session_a).citations}, {doc_a.id})
        self.assertEqual({c["document_id"] for c in self.last_answer(session_b).citations}, {doc_b.id})
        # Asking for another company's base returns nothing, at every level.
        self.assertEqual(
            (base_a | base_b)._aia_search("refund", self.other_company.id)[0].document_id, doc_b.id
        )
        self.assertFalse(base_a._aia_search("refund", self.other_company.id))
        self.assertFalse(
            base_a._aia_store().search(
                [0.1] * 384, company_id=self.other_company.id, knowledge_base_ids=[base_a.id], top_k=5
            )
        )

    def test_document_access_follows_companies_and_groups(self):
        base_a = self.make_base()
        base_b = self.make_base(company=self.other_company)
        doc_a = self.indexed(base_a, ("returns.md", RETURNS, "Returns A"))
        doc_b = self.indexed(base_b, ("refunds.txt", REFUSED, "Refunds B"))
        Documents = self.env["aia.knowledge.document"]
        self.assertEqual(Documents.with_user(self.user_b).search([]), doc_b)
        self.assertEqual(Documents.with_user(self.user).search([]), doc_a)
        with self.assertRaises(AccessError):
            doc_a.with_user(self.user_b).read(["name"])
        with self.assertRaises(AccessError):
            self.upload(base_a.with_user(self.user), "x.txt", b"users cannot add documents")
        with self.assertRaises(AccessError):
            base_a.with_user(self.user).write({"top_k": 3})

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
        with trap_jobs() as trap:
            source = self.env["aia.knowledge.document"].create(
                {
                    "name": "Suppliers",
                    "knowledge_base_id": base.id,
                    "source_type": "records",
                    "res_model_id": self.env.ref("base.model_res_partner").id,
                    "record_domain": "[('name', 'ilike', 'Knowledge Test')]",
                    "field_ids": [(6, 0, self.env.ref("base.field_res_partner__comment").ids)],
                }
            )
            perform_jobs(self, trap)
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
        page = (
            b"<html><body><h1>Opening hours</h1><p>The showroom opens at 9:00 on Saturdays.</p></body></html>"
        )
        hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        # Loopback is refused to fetches unless the administrator opens it.
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1")
        base = self.make_base()
        with trap_jobs() as trap:
            document = self.env["aia.knowledge.document"].create(
                {
                    "name": "Showroom",
                    "knowledge_base_id": base.id,
                    "source_type": "url",
                    "url": f"http://127.0.0.1:{server.server_port}/hours",
                }
            )
            perform_jobs(self, trap)
            self.assertEqual((document.state, document.file_format), ("ready", "html"))
            self.assertTrue(document.file)
            document.action_reindex()
            perform_jobs(self, trap)
        self.assertEqual(hits, ["/hours"])
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
        expiration = datetime.now() + timedelta(hours=1)
        key = self.env["res.users.apikeys"].with_user(self.user)._generate("rpc", "kb test", expiration)
        response = self.url_open(
            "/aia/v1/agents/assistant/chat",
            data=json.dumps({"message": "How long do customers have to return goods?"}),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        self.assertEqual(data["citations"][0]["document_id"], document.id)
        self.assertEqual(data["citations"][0]["document_name"], "Returns policy")
        self.assertEqual(data["events"][-1]["citations"], data["citations"])
