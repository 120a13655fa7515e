"""Indexing runs that race with the user: a document deleted or indexed anew while its job runs,
a base moved to another company, progress of a PDF, a neutralized copy, the store defaults."""

import io
import shutil
import subprocess
import sys
import tempfile

from reportlab.pdfgen import canvas

from odoo.modules import neutralize
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.rag import pgvector_status
from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import vector_stores
from ..models import aia_knowledge_document
from .common import RETURNS, KnowledgeCase, perform_jobs

LONG = b"\n\n".join(
    b"Rule %d: customers may return goods within thirty days of delivery, with the receipt." % number
    for number in range(600)
)


def pdf(pages):
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    for number in range(1, pages + 1):
        for line in range(30):
            page.drawString(
                40, 800 - 20 * line, f"Page {number} line {line}: returns are accepted for thirty days."
            )
        page.showPage()
    page.save()
    return buffer.getvalue()


class _CommittingEmbedder:
    """The real embedder; on its ``after``-th batch, another transaction's change is committed
    (``change``), as a user deleting or re-indexing the document while its job runs."""

    def __init__(self, embedder, change, after=2):
        self.embedder, self.change, self.after, self.calls = embedder, change, after, 0

    def embed(self, texts):
        self.calls += 1
        if self.calls == self.after:
            self.change()
        return self.embedder.embed(texts)


@tagged("post_install", "-at_install")
class TestIndexingRuns(KnowledgeCase):
    def setUp(self):
        super().setUp()
        # Every batch checks whether the run is still the document's newest.
        self.patch(aia_knowledge_document, "PROGRESS_INTERVAL", 0)

    def make_base(self, store="qdrant_local", company=None, **values):
        # Small chunks: a long document takes several batches of 64, each one a check.
        return super().make_base(store, company, **{"chunk_size": 100, "chunk_overlap": 10, **values})

    def upload_queued(self, base, data=LONG, name="rules.txt"):
        with trap_jobs() as trap:
            document = self.upload(base, name, data)
        return document, trap

    def run_with(self, base, trap, change):
        embedder = _CommittingEmbedder(base._aia_embedder(), change)
        self.patch(type(base), "_aia_embedder", lambda _base: embedder)
        perform_jobs(self, trap)
        return embedder

    def committed(self, query):
        """``query`` as another transaction that commits (the job's cursor sees it at its next check)."""

        def change():
            # In registry test mode (jobs run in it), a new cursor's commit is a savepoint the
            # job's later rollback keeps, as it would keep another transaction's commit.
            with self.registry.cursor() as cr:
                cr.execute(query)

        return change

    def test_a_document_deleted_while_it_is_indexed_leaves_no_vectors(self):
        base = self.make_base()
        document, trap = self.upload_queued(base)
        scope = {"company_id": self.company.id, "knowledge_base_id": base.id}
        embedder = self.run_with(
            base, trap, self.committed(f"DELETE FROM aia_knowledge_document WHERE id = {document.id}")
        )
        self.assertEqual(embedder.calls, 2, "the run went on after the deletion")
        self.assertFalse(document.exists())
        self.assertEqual(base._aia_store().count(**scope), 0)
        self.assertEqual(base._aia_search("return goods within thirty days", self.company.id), [])

    def test_a_run_overtaken_by_a_new_one_is_dropped_and_the_new_one_served(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        first = document.served_generation
        with trap_jobs() as trap:
            document.write({"file": __import__("base64").b64encode(LONG), "file_name": "rules.txt"})
        overtaken = document.index_generation
        self.run_with(
            base,
            trap,
            self.committed(
                f"UPDATE aia_knowledge_document SET index_generation = 'newer' WHERE id = {document.id}"
            ),
        )
        document.invalidate_recordset()
        # The overtaken run wrote nothing that stays; the document still serves its last complete run.
        self.assertEqual(document.served_generation, first)
        store = base._aia_store()
        found = base._aia_search("return goods within thirty days", self.company.id)
        self.assertTrue(found)
        self.assertEqual({chunk.metadata["generation"] for chunk in found}, {first})
        hits = store.search(
            base._aia_embedder().embed(["Rule 12 thirty days"])[0],
            company_id=self.company.id,
            knowledge_base_ids=[base.id],
            top_k=50,
        )
        self.assertNotIn(overtaken, {hit.metadata["generation"] for hit in hits})

    def test_a_queued_run_overtaken_before_it_starts_does_nothing(self):
        base = self.make_base()
        with trap_jobs() as trap:
            document = self.upload(base, "returns.md", RETURNS)
            document.action_reindex()
            trap.assert_jobs_count(2)
            perform_jobs(self, trap)
        document.invalidate_recordset()
        self.assertEqual(document.state, "ready")
        self.assertEqual(document.served_generation, document.index_generation)
        scope = {"company_id": self.company.id, "knowledge_base_id": base.id, "document_id": document.id}
        self.assertEqual(base._aia_store().count(**scope), document.chunk_count)

    def test_a_base_moved_to_another_company_takes_its_passages_along(self):
        base = self.make_base()
        self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.assertTrue(base._aia_search("return goods", self.company.id))
        with trap_jobs() as trap:
            base.company_id = self.other_company
            perform_jobs(self, trap)
        store = base._aia_store()
        self.assertEqual(store.count(company_id=self.company.id, knowledge_base_id=base.id), 0)
        self.assertGreater(store.count(company_id=self.other_company.id, knowledge_base_id=base.id), 0)
        self.assertTrue(base._aia_search("return goods", self.other_company.id))
        self.assertEqual(base._aia_search("return goods", self.company.id), [])

    def test_pdf_progress_follows_its_pages(self):
        base = self.make_base()
        document, trap = self.upload_queued(base, pdf(40), "manual.pdf")
        shown = []
        checkpoint = type(document)._aia_checkpoint

        def record(records):
            shown.append(records.progress)
            return checkpoint(records)

        self.patch(type(document), "_aia_checkpoint", record)
        perform_jobs(self, trap)
        document.invalidate_recordset()
        self.assertEqual(document.state, "ready", document.error_message)
        during = [value for value in shown if 0 < value < 100]
        self.assertGreaterEqual(len(during), 2, shown)
        self.assertEqual(during, sorted(during))
        self.assertLess(during[0], 60, "the first page read shows as almost done")

    def test_a_neutralized_copy_gets_its_own_namespace_and_reindexes(self):
        base = self.make_base()
        document = self.indexed(base, ("returns.md", RETURNS, "Returns policy"))
        self.assertTrue(vector_stores.store_prefix(self.env).endswith(vector_stores.namespace(self.env)))
        self.env["ir.config_parameter"].sudo().set_param(vector_stores.QDRANT_PATH_PARAM, "/srv/shared")
        self.env.flush_all()
        for query in neutralize.get_neutralization_queries(["ai_kb"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        # No namespace left: the copy's first use makes a new one (at random, committed apart).
        self.env.cr.execute(
            "SELECT count(*) FROM ir_config_parameter WHERE key = %s", [vector_stores.NAMESPACE_PARAM]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertNotEqual(vector_stores.qdrant_path(self.env), "/srv/shared")
        self.assertEqual(document.state, "error")
        self.assertIn("Re-index", document.error_message)

    def test_the_default_store_is_pgvector_with_hnsw_where_the_database_has_it(self):
        if pgvector_status(self.env.cr) == "missing":
            self.skipTest("PostgreSQL has no pgvector here")
        base = self.env["aia.knowledge.base"].create({"name": "Defaults"})
        self.assertEqual(base.vector_store, "pgvector")
        self.assertTrue(base._aia_store().hnsw)


@tagged("post_install", "-at_install")
class TestStoreOfAnotherProcess(KnowledgeCase):
    def test_a_worker_that_cannot_open_the_embedded_store_tells_the_user(self):
        """Qdrant embedded with several workers: the folder is locked by another process. The turn
        answers, and the user reads that the knowledge was unavailable and why (not HTTP 200 with
        a silently uninformed answer)."""
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder, True)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_FOLDER, folder],
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), "holding")
        self.env["ir.config_parameter"].sudo().set_param(vector_stores.QDRANT_PATH_PARAM, folder)
        base = self.make_base()
        self.agent.knowledge_base_ids = base
        self.script(reply("Goods can be returned, as far as I know."))
        session = self.new_session()
        self.chat(session, "How long do customers have to return goods?")
        self.assertEqual(session.state, "done")
        self.assertIn("could not be searched", session.error_message)
        self.assertIn("in use by another process", session.error_message)
        errors = [event for event in self.pushed_events(session) if event["type"] == "error"]
        self.assertEqual(errors[0]["code"], "knowledge_unavailable")


# Another process holding an embedded Qdrant folder, as a second Odoo worker would.
HOLD_FOLDER = """
import sys
from qdrant_client import QdrantClient
client = QdrantClient(path=sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""
