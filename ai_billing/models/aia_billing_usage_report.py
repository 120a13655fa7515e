from odoo import fields, models
from odoo.tools import SQL

from .aia_billing_plan import LINE_KINDS


class AiaBillingUsageReport(models.Model):
    """The ledger priced at each company's plan, one row per event and priced quantity: what a
    pivot needs to show money per company, agent, model, user and month.

    Amounts here are exact and unrounded; statements round once per line, so they may differ from
    these sums by less than a cent per statement line.
    """

    _name = "aia.billing.usage.report"
    _description = "AI Priced Usage"
    _auto = False
    _order = "date desc"

    event_id = fields.Many2one("aia.usage.event", readonly=True)
    date = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    agent_id = fields.Many2one("aia.agent", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    session_id = fields.Many2one("aia.session", readonly=True)
    model_name = fields.Char("Model", readonly=True)
    tool_name = fields.Char("Tool", readonly=True)
    kind = fields.Selection([kind for kind in LINE_KINDS if kind[0] != "quota"], readonly=True)
    quantity = fields.Float(digits=(20, 0), readonly=True, aggregator="sum")
    plan_id = fields.Many2one("aia.billing.plan", readonly=True)
    version_id = fields.Many2one("aia.billing.plan.version", string="Plan version", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            """
                                WITH version AS (
                    SELECT version.*,
                           version.date_from::timestamp AS start,
                           LEAD(version.date_from::timestamp)
                               OVER (PARTITION BY version.plan_id ORDER BY version.date_from) AS stop
                      FROM aia_billing_plan_version version
                )
                SELECT event.id::bigint * 8 + part.n AS id,
                       event.id AS event_id,
                       event.date,
                       event.company_id,
                       event.agent_id,
                       event.user_id,
                       event.session_id,
                       event.model_name,
                       event.tool_name,
                       part.kind,
                       part.quantity,
                       plan.id AS plan_id,
                       version.id AS version_id,
                       plan.currency_id,
                       part.quantity * part.price / part.per AS amount
                  FROM aia_usage_event event
                  JOIN res_company company ON company.id = event.company_id
             LEFT JOIN aia_billing_plan plan ON plan.id = company.aia_billing_plan_id
             LEFT JOIN version ON version.plan_id = plan.id
                              AND event.date >= version.start
                              AND (version.stop IS NULL OR event.date < version.stop)
             LEFT JOIN aia_billing_plan_price model_price ON model_price.version_id = version.id
                                                         AND model_price.model_name = event.model_name
            CROSS JOIN LATERAL (VALUES
                (1, 'tokens_input', event.input_tokens,
                 CASE WHEN model_price.id IS NULL THEN version.price_input ELSE model_price.price_input END,
                 1000000),
                (2, 'tokens_output', event.output_tokens,
                 CASE WHEN model_price.id IS NULL THEN version.price_output ELSE model_price.price_output END,
                 1000000),
                (3, 'tokens_cache_read', event.cache_read_tokens,
                 CASE WHEN model_price.id IS NULL THEN version.price_cache_read
                      ELSE model_price.price_cache_read END,
                 1000000),
                (4, 'tokens_cache_write', event.cache_write_tokens,
                 CASE WHEN model_price.id IS NULL THEN version.price_cache_write
                      ELSE model_price.price_cache_write END,
                 1000000),
                (5, 'tool_call', 1, version.price_tool_call, 1),
                (6, 'kb_query', 1, version.price_kb_query, 1)
            ) AS part(n, kind, quantity, price, per)
                 WHERE CASE event.kind
                           WHEN 'provider_call' THEN part.n <= 4 AND part.quantity > 0
                           WHEN 'tool_call' THEN part.n = 5
                           WHEN 'kb_query' THEN part.n = 6
                       END
            """
        )
