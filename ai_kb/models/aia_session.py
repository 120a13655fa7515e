import time

from odoo import models


class AiaSession(models.Model):
    _inherit = "aia.session"

    def _aia_runner(self, recorder, resuming=False):
        runner = super()._aia_runner(recorder, resuming)
        setup = self.agent_id.sudo()._aia_setup(self.company_id)
        bases = self._aia_knowledge_bases()
        if bases and setup["knowledge_mode"] == "auto":
            runner.knowledge = lambda query: self._aia_kb_retrieve(query, bases)
        return runner

    # === BUSINESS METHODS === #

    def _aia_knowledge_bases(self):
        """The agent's active knowledge bases of the session's company."""
        self.ensure_one()
        setup = self.agent_id.sudo()._aia_setup(self.company_id)
        return self.env["aia.knowledge.base"].sudo().browse(setup["knowledge_base_ids"])

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
