import base64
import io
import logging
import os
import time
import uuid

from odoo import api, fields, models
from odoo.exceptions import MissingError, UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.ai_core import telemetry
from odoo.addons.ai_core.ai_engine.rag import (
    Block,
    Chunker,
    EmbeddingModelError,
    ExtractionError,
    VectorStoreError,
    detect_format,
    extract,
    index_blocks,
)
from odoo.addons.ai_core.safe_fetch import Allowlist, FetchError, fetch

from ..readers import CountingReader, field_text

_logger = logging.getLogger(__name__)

URL_MAX_BYTES = 50 * 1024 * 1024
# Seconds for the whole download of a web page, redirects included.
URL_TIMEOUT = 120
URL_MAX_REDIRECTS = 5
RECORD_BATCH = 200
# Progress is written (and committed) at most this often while a document is indexed (seconds).
PROGRESS_INTERVAL = 2.0


class _Overtaken(Exception):
    """The document was deleted, or indexed anew, while this run was indexing it."""


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
    # Each indexing run writes its own generation of vectors; searches serve the last complete one,
    # so a re-index replaces the passages at once when it ends, and a run overtaken by another (or
    # by a deletion) never gets served.
    index_generation = fields.Char(readonly=True, copy=False)
    served_generation = fields.Char(readonly=True, copy=False)

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
            document._aia_drop_vectors()
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
            generation = uuid.uuid4().hex[:12]
            document.sudo().write(
                {"state": "queued", "progress": 0, "error_message": False, "index_generation": generation}
            )
            document.with_delay(
                channel="root.aia.knowledge", description=f"Index knowledge: {document.name}"
            )._aia_job_index(generation, **telemetry.job_trace())

    @telemetry.traced_job
    def _aia_job_index(self, generation=None):
        """Queue job: index the document as ``generation``; a failure puts it in error with the
        reason. A run overtaken by a newer one, or whose document was deleted, stops and removes
        what it wrote."""
        document = self.sudo().exists()
        if not document:
            return
        document.ensure_one()
        generation = generation or document.index_generation or ""
        if generation != (document.index_generation or ""):
            return  # a newer run was queued: it does the work
        base = document.knowledge_base_id
        scope = {"company_id": base.company_id.id, "knowledge_base_id": base.id, "document_id": document.id}
        document.write({"state": "indexing", "progress": 0, "error_message": False})
        document._aia_checkpoint()
        last = time.monotonic()
        reader = None
        read = {"fraction": 0.0}

        def progress(_written):
            nonlocal last
            if time.monotonic() - last < PROGRESS_INTERVAL:
                return
            last = time.monotonic()
            if not document._aia_is_current(generation):
                raise _Overtaken()
            # Blocks that know how far they are (PDF pages) say so; else the bytes read.
            fraction = read["fraction"] or (reader.fraction if reader is not None else 0.0)
            document.progress = max(document.progress, round(min(fraction, 0.99) * 100, 1))
            document._aia_checkpoint()

        def tracked(blocks):
            for block in blocks:
                if block.progress is not None:
                    read["fraction"] = block.progress
                yield block

        try:
            if document.source_type == "url" and not document.file:
                # The URL is the user's input: fetched with the job's user, under the fetch rules.
                self._aia_fetch_url()
            blocks, reader = document._aia_blocks()
            try:
                stats = index_blocks(
                    tracked(blocks),
                    **scope,
                    document_name=document.name,
                    chunker=Chunker(base.chunk_size, base.chunk_overlap),
                    embedder=base._aia_embedder(),
                    store=base._aia_store(),
                    progress=progress,
                    generation=generation,
                )
            finally:
                if reader is not None:
                    reader.close()
            document._aia_checkpoint()
            if not document._aia_is_current(generation):
                raise _Overtaken()
        except _Overtaken:
            self.env.cr.rollback()
            try:
                base._aia_store().delete_document(**scope, generation=generation)
            except (MissingError, UserError, VectorStoreError):  # the base went too: so did its vectors
                _logger.info("knowledge document %s: base gone with its vectors", scope["document_id"])
            return
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
                "served_generation": generation,
            }
        )
        # The new generation is served from this commit on: the older ones can go.
        base._aia_store().delete_document(**scope, keep_generation=generation)

    def _aia_is_current(self, generation):
        """Whether the document still exists and ``generation`` is still its newest run (as
        committed: a deletion or a new run in another transaction counts once committed)."""
        self.env.cr.execute("SELECT index_generation FROM aia_knowledge_document WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return bool(row) and (row[0] or "") == generation

    def _aia_drop_vectors(self):
        """Remove every vector of this document; an unreachable store is logged, not raised."""
        try:
            self.knowledge_base_id._aia_store().delete_document(
                company_id=self.company_id.id,
                knowledge_base_id=self.knowledge_base_id.id,
                document_id=self.id,
            )
        except (UserError, VectorStoreError):
            _logger.warning("knowledge document %s: vectors not deleted", self.id, exc_info=True)

    def _aia_index_failed(self, message):
        self._aia_drop_vectors()
        self.write(
            {
                "state": "error",
                "error_message": message,
                "chunk_count": 0,
                "progress": 0,
                "served_generation": False,
            }
        )

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
        reader = CountingReader(raw, attachment.file_size)
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
            {"file": base64.b64encode(content), "file_name": f"{self.name or 'page'}.{fmt}"}
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
                    text = field_text(record, name)
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
