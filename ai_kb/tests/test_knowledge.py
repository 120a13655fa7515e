"""Knowledge bases end to end: files indexed and cited in answers, one company's passages never
another's."""

import base64
import tempfile

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import tracing
from odoo.addons.ai_core.ai_engine.rag import pgvector_status
from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.tracing_case import TracingMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import vector_stores
from .common import REFUSED, RETURNS, KnowledgeCase, perform_jobs


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


@tagged("post_install", "-at_install")
class TestKnowledgeTraces(TracingMixin, KnowledgeCase):
    def test_a_search_before_the_answer_is_a_retrieval_span_of_the_turn(self):
        base = self.make_base("qdrant_local")
        self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.agent.knowledge_base_ids = base
        self.script(reply("Goods can be returned within 30 days [1]."))
        self.chat(self.new_session(), "How long do customers have to return goods?")
        [retrieval] = self.finished("retrieval ")
        [turn] = self.finished("invoke_agent")
        self.assertChildOf(retrieval, turn)
        self.assertEqual(retrieval.attributes[tracing.AIA_RETRIEVAL_STORE], retrieval.name.split(" ", 1)[1])
        self.assertGreaterEqual(retrieval.attributes[tracing.AIA_RETRIEVAL_RESULTS], 1)
        self.assertIn(tracing.AIA_RETRIEVAL_TOP_K, retrieval.attributes)
        # The question and the passages stay out of it.
        self.assertNothingLeaks("return goods", "within 30 days of delivery")
