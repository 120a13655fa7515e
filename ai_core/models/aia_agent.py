from decimal import Decimal
from types import MappingProxyType

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from ..ai_engine import AgentConfig, FallbackChain, Limits, Link, PriceTable, ToolRegistry
from ..ai_engine.memory import Summarizer
from ..tools import CATALOGUE

# Fields whose change makes a new version of the agent; the snapshot restores exactly these.
VERSIONED_FIELDS = (
    "name",
    "description",
    "system_prompt",
    "rules",
    "model_id",
    "fallback_model_id",
    "tool_ids",
    "allowed_model_ids",
    "memory_window",
    "summarize_memory",
    "summary_model_id",
    "shadow_mode",
    "read_only",
    "approval_mode",
    "approver_id",
    "max_tool_calls",
    "max_iterations",
    "turn_deadline",
    "max_output_tokens",
    "max_turn_tokens",
    "max_turn_cost",
    "max_session_tokens",
    "max_session_cost",
)


class AiaAgent(models.Model):
    _name = "aia.agent"
    _inherit = ["aia.setup.mixin"]
    _description = "AI Agent"
    _order = "name"
    _check_company_auto = True

    code = fields.Char(required=True, help="Stable identifier used by the API: /aia/v1/agents/<code>/chat")
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Empty: shared by every company.")
    system_prompt = fields.Text(required=True, default="You are a helpful assistant inside Odoo.")
    rules = fields.Text(help="One rule per line. Part of the system prompt; users cannot change them.")
    model_id = fields.Many2one(
        "aia.model",
        ondelete="restrict",
        check_company=True,
        help="Empty: the first active model available to the company (lets modules ship agents as data).",
    )
    fallback_model_id = fields.Many2one(
        "aia.model", ondelete="set null", check_company=True, help="Used when the model's provider fails."
    )
    tool_ids = fields.Many2many("aia.tool", string="Tools")
    allowed_model_ids = fields.Many2many(
        "ir.model",
        string="Models the ORM tools may touch",
        domain=[("transient", "=", False)],
        help="Generic ORM tools refuse any other model, and refuse configuration, security and "
        "credential models whatever this list holds. Access rights of the user still apply.",
    )
    memory_window = fields.Integer(default=20, help="Earlier messages sent with each request.")
    summarize_memory = fields.Boolean(
        "Summarize earlier messages",
        default=True,
        help="Messages leaving the memory window are folded into the session's running summary, "
        "which every later request carries (one metered call each time the window moves on).",
    )
    summary_model_id = fields.Many2one(
        "aia.model",
        string="Summary model",
        ondelete="set null",
        check_company=True,
        help="Writes the running summary; empty: the agent's model. A smaller model costs less.",
    )
    shadow_mode = fields.Boolean(default=True, help="Write tools are previewed, never executed.")
    read_only = fields.Boolean(help="Write tools are not offered at all.")
    approval_mode = fields.Selection(
        [("none", "None"), ("write", "Write tools need approval")], default="none", required=True
    )
    approver_id = fields.Many2one("res.users", help="Gets an activity for each pending approval.")
    max_tool_calls = fields.Integer(default=20)
    max_iterations = fields.Integer(default=10)
    turn_deadline = fields.Integer("Turn deadline (s)", default=60)
    max_output_tokens = fields.Integer(default=4096)
    max_turn_tokens = fields.Integer(help="0: no limit")
    max_turn_cost = fields.Float(digits=(16, 6), help="0: no limit")
    max_session_tokens = fields.Integer(help="0: no limit")
    max_session_cost = fields.Float(digits=(16, 6), help="0: no limit")
    version = fields.Integer(default=1, readonly=True, copy=False)
    version_ids = fields.One2many("aia.agent.version", "agent_id", string="Versions")
    session_count = fields.Integer(compute="_compute_session_count")

    _code_company_unique = models.Constraint(
        "UNIQUE(code, company_id)", "An agent code must be unique per company."
    )

    def _compute_session_count(self):
        counts = dict(
            self.env["aia.session"]._read_group([("agent_id", "in", self.ids)], ["agent_id"], ["__count"])
        )
        for agent in self:
            agent.session_count = counts.get(agent, 0)

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        agents = super().create(vals_list)
        agents._aia_snapshot()
        return agents

    def write(self, vals):
        versioned = set(vals) & set(self._aia_versioned_fields())
        result = super().write(vals)
        if versioned:
            for agent in self:
                agent.version += 1
            self._aia_snapshot()
        return result

    # === ACTIONS === #

    def action_open_sessions(self):
        self.ensure_one()
        return self.env["aia.session"]._aia_list_action([("agent_id", "=", self.id)])

    # === BUSINESS METHODS === #

    def _aia_to_client(self):
        """What the chat UI shows of an agent it offers."""
        self.ensure_one()
        return {"id": self.id, "code": self.code, "name": self.name, "description": self.description or ""}

    def _aia_versioned_fields(self):
        """Fields whose change makes a new version; the snapshot restores exactly these. Addons
        that add agent settings (knowledge bases, ...) extend it."""
        return VERSIONED_FIELDS

    def _aia_snapshot(self):
        for agent in self:
            data = {}
            for name in self._aia_versioned_fields():
                field = agent._fields[name]
                value = agent[name]
                if field.type == "many2one":
                    value = value.id
                elif field.type == "many2many":
                    value = value.ids
                data[name] = value
            self.env["aia.agent.version"].create(
                {"agent_id": agent.id, "version": agent.version, "snapshot": data}
            )

    def _aia_limits(self):
        self.ensure_one()

        def cost(value):
            return Decimal(str(value)) if value else None

        return Limits(
            max_tool_calls=self.max_tool_calls,
            max_iterations=self.max_iterations,
            turn_deadline=float(self.turn_deadline),
            max_output_tokens=min(
                self.max_output_tokens, self._aia_primary_model().max_output_tokens or self.max_output_tokens
            ),
            max_turn_tokens=self.max_turn_tokens or None,
            max_turn_cost=cost(self.max_turn_cost),
            max_session_tokens=self.max_session_tokens or None,
            max_session_cost=cost(self.max_session_cost),
        )

    def _aia_primary_model(self):
        """The agent's model, else the first active model its company may use."""
        self.ensure_one()
        if self.model_id:
            return self.model_id
        company = self.company_id or self.env.company
        model = self.env["aia.model"].search(
            [("company_id", "in", [company.id, False]), ("provider_id.active", "=", True)],
            order="company_id, id",
            limit=1,
        )
        if not model:
            raise UserError(
                self.env._(
                    "Agent %(name)s has no model and no model is configured: add one under "
                    "AI Agents > Configuration > Models.",
                    name=self.name,
                )
            )
        return model

    def _aia_config(self, limits=None):
        self.ensure_one()
        rules = tuple(line.strip() for line in (self.rules or "").splitlines() if line.strip())
        return AgentConfig(
            model=self._aia_primary_model().name,
            system_prompt=self.system_prompt or "",
            rules=rules,
            limits=limits or self._aia_limits(),
            memory_window=self.memory_window,
            shadow_mode=self.shadow_mode,
            approval_mode=self.approval_mode,
            read_only=self.read_only,
        )

    def _aia_tool_registry(self):
        """The agent's allowlist as an engine registry; tools without a handler are left out."""
        self.ensure_one()
        registry = ToolRegistry(rate_limiter=CATALOGUE.rate_limiter)
        for tool in self.tool_ids.filtered("active"):
            spec = tool._aia_spec()
            if spec is not None:
                registry.register(spec)
        return registry

    def _aia_models(self):
        self.ensure_one()
        return (self._aia_primary_model() | self.fallback_model_id).filtered("active")

    def _aia_retry_after(self):
        """Seconds until one of the agent's providers accepts a call (0: one does now)."""
        self.ensure_one()
        waits = [
            model.provider_id._aia_breaker().retry_after()
            for model in self._aia_models()
            if model.provider_id.active
        ]
        return min(waits, default=0.0)

    def _aia_price_table(self):
        models = self._aia_models() | self._aia_summary_model()
        return PriceTable({model.name: model._aia_price() for model in models})

    def _aia_summary_model(self):
        """The model that writes the running summary (none when the agent keeps no summary)."""
        self.ensure_one()
        if not self.summarize_memory:
            return self.env["aia.model"]
        model = self.summary_model_id if self.summary_model_id.active else self._aia_primary_model()
        return model.filtered(lambda m: m.provider_id.active)

    def _aia_model_adapter(self, company=None):
        """The agent's model: its provider, then the fallback's, each behind a circuit breaker."""
        self.ensure_one()
        links = self._aia_links(self._aia_setup(company)["links"])
        if not links:
            raise UserError(self.env._("Agent %(name)s has no active model.", name=self.name))
        return FallbackChain(links)

    def _aia_summarizer(self, company=None):
        """What folds the messages leaving the memory window into the running summary, or None."""
        self.ensure_one()
        link = self._aia_setup(company)["summary_link"]
        if not link:
            return None
        return Summarizer(FallbackChain(self._aia_links([link])), link[1])

    def _aia_links(self, links):
        """``(provider id, model name)`` pairs as the engine's links, each behind its provider's
        circuit breaker."""
        providers = self.env["aia.provider"].sudo()
        return [
            Link(provider._aia_build_model_adapter(), model_name, provider._aia_breaker())
            for provider, model_name in ((providers.browse(pid), name) for pid, name in links)
        ]

    # === TURN SETUP === #

    def _aia_setup(self, company=None):
        """What a turn of this agent in ``company`` (default: the environment's) reads from the
        configuration (:meth:`_aia_setup_values`), built once per process and kept until a record
        it comes from is written (``aia.setup.mixin``): a turn starts without reading it again."""
        self.ensure_one()
        return self._aia_cached_setup(self.id, (company or self.env.company).id, self.env.lang)

    @api.model
    @tools.ormcache("agent_id", "company_id", "lang")
    def _aia_cached_setup(self, agent_id, company_id, lang):
        agent = self.sudo().with_company(company_id).with_context(lang=lang).browse(agent_id)
        return MappingProxyType(agent._aia_setup_values())

    def _aia_setup_values(self):
        """Extension point: the configuration a turn reads, as values that outlive the transaction
        (no records, nothing a turn changes). ``config`` carries the agent's own limits, which a
        session may tighten."""
        self.ensure_one()
        return {
            "code": self.code,
            "config": self._aia_config(),
            "tools": self._aia_tool_registry(),
            "allowed_models": tuple(self.allowed_model_ids.mapped("model")),
            "pricing": self._aia_price_table(),
            "links": tuple(
                (model.provider_id.id, model.name) for model in self._aia_models() if model.provider_id.active
            ),
            "summary_link": next(
                ((model.provider_id.id, model.name) for model in self._aia_summary_model()), None
            ),
        }
