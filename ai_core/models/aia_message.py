from odoo import api, fields, models

from ..ai_engine import Message
from ..rendering import render_markdown


class AiaMessage(models.Model):
    _name = "aia.message"
    _description = "AI Session Message"
    _order = "session_id, id"

    session_id = fields.Many2one("aia.session", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    role = fields.Selection([("user", "User"), ("assistant", "Assistant"), ("tool", "Tool")], required=True)
    content = fields.Json(required=True, help="The engine's message, content blocks included.")
    body = fields.Text(compute="_compute_body", store=True, help="The text of the message.")
    # An answer as the chat shows it, rendered once when saved (see ai_core.rendering, which
    # sanitizes it; users cannot write messages). Not a stored compute: an upgrade would render
    # every message of every past session at once; those are rendered when shown.
    html = fields.Html("Rendered answer", sanitize=False, readonly=True)
    citations = fields.Json(readonly=True, help="Knowledge passages given to the model for this answer.")

    @api.depends("content")
    def _compute_body(self):
        for message in self:
            engine_message = message._aia_engine_message()
            if engine_message.role == "tool":
                message.body = "\n".join(block.content for block in engine_message.tool_results)
            else:
                message.body = engine_message.text

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("role") == "assistant" and vals.get("content") and "html" not in vals:
                vals["html"] = render_markdown(self.env, Message.from_dict(vals["content"]).text)
        return super().create(vals_list)

    def _aia_html(self):
        """An answer's Markdown, rendered and sanitized (see ai_core.rendering); "" otherwise."""
        if self.role != "assistant":
            return ""
        return self.html or render_markdown(self.env, self.body)

    def _aia_engine_message(self):
        self.ensure_one()
        return Message.from_dict(self.content)

    def _aia_to_client(self):
        """What the chat UI shows of a message."""
        self.ensure_one()
        message = self._aia_engine_message()
        return {
            "id": self.id,
            "role": self.role,
            "text": self.body or "",
            "html": str(self._aia_html()),
            "tool_calls": [{"id": call.id, "name": call.name} for call in message.tool_uses],
            "citations": self.citations or [],
            "create_date": fields.Datetime.to_string(self.create_date),
        }
