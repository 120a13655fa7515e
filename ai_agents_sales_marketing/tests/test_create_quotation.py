from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

from .common import SalesWriteCase

TOOL = "sales.create_quotation"
ARGS = {
    "customer": "Acme Corp",
    "lines": [{"product": "DSK", "quantity": 2}, {"product": "Chair", "quantity": 5, "discount": 10}],
}
CALL = ("sales_create_quotation", ARGS)


@tagged("post_install", "-at_install")
class TestCreateQuotation(SalesWriteCase):
    """Acme's pricelist sells the Desk (list price 250, 15% tax) at a fixed 200; the Chair (list
    price 40, no tax) at its list price. Two desks and five chairs at 10% off: 400 + 180 untaxed,
    60 of tax on the desks, 640 in all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.tax15 = env["account.tax"].create(
            {"name": "Tax 15%", "amount": 15, "type_tax_use": "sale", "company_id": cls.company_a.id}
        )
        cls.desk = env["product.product"].create(
            {
                "name": "Desk",
                "default_code": "DSK",
                "type": "consu",
                "list_price": 250.0,
                "taxes_id": [Command.set(cls.tax15.ids)],
            }
        )
        cls.chair = env["product.product"].create(
            {"name": "Chair", "type": "consu", "list_price": 40.0, "taxes_id": [Command.clear()]}
        )
        cls.pricelist = env["product.pricelist"].create(
            {
                "name": "Partners",
                "currency_id": cls.usd.id,
                "company_id": cls.company_a.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": cls.desk.id,
                            "compute_price": "fixed",
                            "fixed_price": 200.0,
                        }
                    )
                ],
            }
        )
        # Odoo's "Pricelists" setting, without which every customer has the default pricelist.
        env.ref("base.group_user").implied_ids = [Command.link(env.ref("product.group_product_pricelist").id)]
        cls.acme.with_company(cls.company_a).property_product_pricelist = cls.pricelist
        cls.list_prices = env["product.pricelist"].create(
            {"name": "List prices", "currency_id": cls.usd.id, "company_id": cls.company_a.id}
        )
        cls.beta.with_company(cls.company_a).property_product_pricelist = cls.list_prices
        # Odoo's default validity of a quotation (the company's setting).
        cls.valid_until = fields.Date.context_today(cls.alice) + timedelta(
            days=cls.company_a.quotation_validity_days
        )
        cls.tool_user = cls.alice
        cls.alice_ab = cls.new_user(
            "sm_alice_ab",
            "sales_team.group_sale_salesman,ai_core.group_aia_user",
            cls.company_a | cls.company_b,
        )
        cls.desk_b = env["product.product"].create(
            {"name": "Desk B", "default_code": "DSKB", "type": "consu", "company_id": cls.company_b.id}
        )
        cls.customer_b = env["res.partner"].create(
            {"name": "Kestrel Customer", "company_id": cls.company_b.id}
        )

    def expected_preview(self):
        return (
            f"Create a draft quotation in {self.company_a.name} for Acme Corp (in USD):\n"
            "- [DSK] Desk: 2 Units at 200.00 = 400.00 USD\n"
            "- Chair: 5 Units at 40.00, discount 10% = 180.00 USD\n"
            "Total: 640.00 USD (580.00 untaxed, 60.00 taxes).\n"
            f"Valid until {self.valid_until}."
        )

    def quotations(self):
        return self.env["sale.order"].search([("partner_id", "=", self.acme.id)])

    def assertCreated(self, output):
        """``output`` is the one quotation of Acme, as Odoo computed it."""
        order = self.quotations()
        self.assertEqual(len(order), 1)
        self.assertEqual(
            (order.state, order.company_id, order.pricelist_id), ("draft", self.company_a, self.pricelist)
        )
        self.assertEqual(order.create_uid, self.alice)
        # Odoo's own totals of the order.
        self.assertEqual((order.amount_untaxed, order.amount_tax, order.amount_total), (580.0, 60.0, 640.0))
        self.assertEqual(
            output,
            {
                "id": order.id,
                "reference": order.name,
                "state": "draft",
                "company": self.company_a.name,
                "customer": "Acme Corp",
                "currency": "USD",
                "pricelist": "Partners (USD)",
                "opportunity": None,
                "validity_date": str(order.validity_date) if order.validity_date else None,
                "lines": [
                    {
                        "product": "[DSK] Desk",
                        "quantity": 2.0,
                        "uom": "Units",
                        "unit_price": 200.0,
                        "discount_pct": 0.0,
                        "subtotal": 400.0,
                    },
                    {
                        "product": "Chair",
                        "quantity": 5.0,
                        "uom": "Units",
                        "unit_price": 40.0,
                        "discount_pct": 10.0,
                        "subtotal": 180.0,
                    },
                ],
                "amount_untaxed": order.amount_untaxed,
                "amount_tax": order.amount_tax,
                "amount_total": order.amount_total,
            },
        )

    # === THE THREE MODES, THROUGH THE SALES AGENT === #

    def test_shadow_mode_previews_exactly_the_quotation_and_creates_nothing(self):
        model, session = self.run_turn("Quote Acme 2 desks and 5 chairs.", CALL, "I would create it.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.quotations())
        self.assertIn("Total: 640.00 USD", self.told(model).content)

    def test_approval_mode_creates_the_quotation_once_approved_as_the_requester(self):
        self.needs_approval()
        model, session = self.run_turn("Quote Acme 2 desks and 5 chairs.", CALL, "unused")
        self.assertEqual(session.state, "waiting_approval")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.quotations())
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual((session.state, execution.status), ("done", "ok"))
        self.assertCreated(execution.output)

    def test_approval_mode_rejected_creates_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Quote Acme 2 desks and 5 chairs.", CALL, "unused")
        self.decide(session, model, approve=False, answer="Not created.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.quotations())

    def test_trusted_mode_creates_the_quotation_and_the_audit_row_is_it(self):
        self.trusted()
        _model, session = self.run_turn("Quote Acme 2 desks and 5 chairs.", CALL, "Created.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertCreated(execution.output)

    # === FIGURES: ODOO'S OWN === #

    def test_the_preview_is_what_the_call_creates(self):
        env = self.user_env(self.alice)
        preview = CATALOGUE.get(TOOL).preview(OdooToolContext(env), ARGS)
        self.assertFalse(self.quotations())
        output = self.call(TOOL, ARGS)
        order = self.quotations()
        self.assertEqual(preview, self.expected_preview())
        self.assertIn(f"Total: {order.amount_total:,.2f} {order.currency_id.name}", preview)
        for line in order.order_line:
            self.assertIn(f"= {line.price_subtotal:,.2f} USD", preview)
        self.assertEqual(output["amount_total"], order.amount_total)

    def test_the_prices_are_odoos_for_another_customer_and_a_given_price_is_kept(self):
        output = self.call(
            TOOL,
            {
                "customer": self.beta.id,
                "lines": [
                    {"product": self.desk.id, "quantity": 1},
                    {"product": "Chair", "quantity": 1, "price_unit": 35},
                ],
            },
        )
        order = self.env["sale.order"].browse(output["id"])
        # Beta's pricelist has no rule: the Desk at its list price, the Chair at the price given.
        self.assertEqual(order.order_line.mapped("price_unit"), [250.0, 35.0])
        self.assertEqual((output["amount_untaxed"], output["amount_total"]), (285.0, order.amount_total))
        self.assertEqual(order.amount_total, 285.0 + 37.5)

    def test_an_opportunity_and_a_validity_date(self):
        self._build_pipeline()
        validity = str(self.at(-10).date())
        output = self.call(TOOL, {**ARGS, "opportunity": "P1", "validity_date": validity})
        order = self.quotations()
        self.assertEqual((order.opportunity_id, str(order.validity_date)), (self.p1, validity))
        self.assertEqual((output["opportunity"], output["validity_date"]), ("P1", validity))
        self.assertEqual(self.p1.quotation_count, 1)

    # === IDEMPOTENCY === #

    def test_a_call_run_again_after_its_worker_died_creates_one_quotation(self):
        self.trusted()
        session = self.run_twice("Quote Acme 2 desks and 5 chairs.", CALL)
        self.assertEqual(len(self.quotations()), 1)
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])

    # === INVALID CALLS === #

    def test_invalid_quotations_are_refused(self):
        self.chair.sale_ok = False
        desk = [{"product": "DSK", "quantity": 1}]
        self.assertInputErrors(
            TOOL,
            [
                ({"customer": "Nobody Ltd", "lines": desk}, "unknown customer"),
                ({"customer": "Acme Corp", "lines": []}, "should be non-empty"),
                ({"customer": "Acme Corp", "lines": [{"product": "DSK", "quantity": 0}]}, "minimum"),
                (
                    {"customer": "Acme Corp", "lines": [{"product": "Chair", "quantity": 1}]},
                    "unknown product",
                ),
                ({"customer": "Acme Corp", "lines": [{"product": "NOPE", "quantity": 1}]}, "unknown product"),
                ({"customer": "Acme Corp", "lines": desk, "validity_date": "2001-01-01"}, "in the past"),
                ({"customer": "Acme Corp", "lines": desk, "confirm": True}, "Additional properties"),
                (
                    {
                        "customer": "Acme Corp",
                        "lines": [{"product": "DSK", "quantity": 1, "price_subtotal": 1}],
                    },
                    "Additional properties",
                ),
            ],
        )
        self.assertFalse(self.quotations())

    # === RIGHTS AND COMPANIES === #

    def test_a_user_who_is_not_a_salesman_is_refused(self):
        self.assertIn("Sales", self.assertDenied(TOOL, ARGS))
        self.assertFalse(self.quotations())
        # In a turn, even the shadow preview says it is refused, and nothing is created.
        _model, session = self.run_turn("Quote Acme.", CALL, "You need Sales rights.", user=self.user)
        self.assertIn("AccessError", session.execution_ids.preview)
        self.trusted()
        self.assertDeniedTurn("Quote Acme.", CALL, "You need Sales rights.")
        self.assertFalse(self.quotations())

    def test_company_b_records_are_refused_in_a_company_a_session(self):
        self._build_pipeline()
        for args, message in (
            (
                {"customer": self.customer_b.id, "lines": [{"product": "DSK", "quantity": 1}]},
                "unknown customer id",
            ),
            (
                {"customer": "Acme Corp", "lines": [{"product": "DSKB", "quantity": 1}]},
                "unknown product 'DSKB'",
            ),
            ({**ARGS, "opportunity": self.p_b.id}, "unknown opportunity id"),
        ):
            with self.subTest(message=message), self.assertRaisesRegex(ToolInputError, message):
                self.call(TOOL, args, user=self.alice_ab)
        self.assertFalse(self.env["sale.order"].search([("create_uid", "=", self.alice_ab.id)]))
        # In company B's session, company B's customer and product make company B's quotation.
        output = self.call(
            TOOL,
            {"customer": self.customer_b.id, "lines": [{"product": "DSKB", "quantity": 1}]},
            user=self.alice_ab,
            company=self.company_b,
        )
        self.assertEqual(self.env["sale.order"].browse(output["id"]).company_id, self.company_b)
