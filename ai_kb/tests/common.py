"""Knowledge-base factories on top of ai_core's agent factories, and the documents they index."""

import base64

from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.ai_core.tests.fake_servers import QuietHandler
from odoo.addons.queue_job.tests.common import trap_jobs

from .. import vector_stores

RETURNS = b"""# Returns policy

Customers may return goods within 30 days of delivery, with the receipt. Refunds are paid to the
original payment method within five working days.

# Shipping

Orders placed before noon ship the same working day from the Lyon warehouse.
"""
REFUSED = b"Refunds: goods are never taken back once delivered; every sale is final."
PAGE = b"<html><body><h1>Opening hours</h1><p>The showroom opens at 9:00 on Saturdays.</p></body></html>"


class WebPages(QuietHandler):
    """A web site of one page, served at every path but those ``server.redirects`` sends elsewhere
    ({path: location}); the paths asked for are in ``server.hits``."""

    def do_GET(self):
        self.server.hits.append(self.path)
        location = self.server.redirects.get(self.path)
        if location:
            self.send_response(302)
            self.send_header("Location", location)
            self.end_headers()
            return
        self.send_body(200, PAGE, "text/html; charset=utf-8")


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

    def add_source(self, base, values, user=None):
        """Add a document of ``base`` that is not a file (``values``: its source, a web page or
        records) as ``user`` (default: the test's), and run its indexing job as them."""
        Documents = self.env["aia.knowledge.document"]
        if user:
            Documents = Documents.with_user(user)
        with trap_jobs() as trap:
            document = Documents.create({"knowledge_base_id": base.id, **values})
            trap.assert_jobs_count(1)
            perform_jobs(self, trap)
        document.invalidate_recordset()
        return document.sudo()
