from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..guard import check_user_writable

# What a user keeps per agent and company, and how long each fact may be: every request of their
# sessions with that agent carries them all.
MAX_FACTS = 50
MAX_CHARS = 500
USER_CREATE_FIELDS = {"agent_id", "text"}
USER_WRITE_FIELDS = {"text"}


class AiaMemoryFact(models.Model):
    """A fact a user asked an agent to remember ("remember that …"): carried by every request of
    their sessions with that agent in that company, as data. Theirs alone: never shared with
    another user or company; they see, edit and remove it, or ask the agent to forget it."""

    _name = "aia.memory.fact"
    _description = "AI Pinned Fact"
    _order = "agent_id, id"

    user_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
        ondelete="cascade",
        index=True,
    )
    agent_id = fields.Many2one("aia.agent", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company, index=True
    )
    text = fields.Char(required=True)
    session_id = fields.Many2one("aia.session", string="Said in", readonly=True, ondelete="set null")

    @api.constrains("text")
    def _check_text(self):
        for fact in self:
            if not fact.text.strip() or len(fact.text) > MAX_CHARS:
                raise ValidationError(self.env._("A fact holds 1 to %(count)s characters.", count=MAX_CHARS))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                # The user's own, in a company of theirs, for an agent they may use (the form
                # sends the defaults: they may only be these).
                if vals.get("user_id", self.env.uid) != self.env.uid or (
                    vals.get("company_id", self.env.company.id) not in self.env.companies.ids
                ):
                    raise AccessError(self.env._("A pinned fact is its user's own, in their company."))
                check_user_writable(self, vals, USER_CREATE_FIELDS | {"user_id", "company_id"})
                self.env["aia.agent"].browse(vals.get("agent_id")).check_access("read")
        facts = super().create(vals_list)
        for fact in facts:
            kept = self.sudo().search_count(
                [
                    ("user_id", "=", fact.user_id.id),
                    ("agent_id", "=", fact.agent_id.id),
                    ("company_id", "=", fact.company_id.id),
                ]
            )
            if kept > MAX_FACTS:
                raise UserError(
                    self.env._(
                        "%(agent)s keeps at most %(count)s facts: forget one first.",
                        agent=fact.agent_id.name,
                        count=MAX_FACTS,
                    )
                )
        return facts

    def write(self, vals):
        if not self.env.su:
            check_user_writable(self, vals, USER_WRITE_FIELDS)
        return super().write(vals)

    @api.model
    def _aia_pinned(self, session):
        """``(id, text)`` of the facts ``session``'s user keeps with its agent in its company."""
        facts = self.sudo().search(
            [
                ("user_id", "=", session.user_id.id),
                ("agent_id", "=", session.agent_id.id),
                ("company_id", "=", session.company_id.id),
            ]
        )
        return tuple((fact.id, fact.text) for fact in facts)
