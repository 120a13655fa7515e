from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_invoicing_status"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}
AGGREGATES = [
    "order_reference:count_distinct",
    "price_subtotal:sum",
    "untaxed_amount_invoiced:sum",
    "untaxed_amount_to_invoice:sum",
]


@tagged("post_install", "-at_install")
class TestInvoicingStatus(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_orders()
        # Acme's contact John is invoiced in full; Beta (EUR) for its mouse only; Gamma's April order
        # gets a credit note for its whole invoice.
        cls.order_a1._create_invoices().action_post()
        beta = cls.order_b1._create_invoices()
        beta.invoice_line_ids.filtered(lambda line: line.product_id != cls.mouse).unlink()
        beta.action_post()
        gamma = cls.order_g1._create_invoices()
        gamma.action_post()
        reversal = gamma._reverse_moves()
        reversal.action_post()

    def report(self, domain, groupby=(), user=None, company=None):
        rows = self.sales_report(
            user or self.manager,
            [("state", "=", "sale"), *domain],
            list(groupby),
            AGGREGATES,
            company=company,
        )
        return {
            key: {
                "orders": count,
                "amount_untaxed": round(ordered, 2),
                "invoiced": round(invoiced, 2),
                "to_invoice": round(to_invoice, 2),
            }
            for key, (count, ordered, invoiced, to_invoice) in rows.items()
        }

    def test_invoiced_and_to_invoice_are_odoos_per_invoice_status(self):
        result = self.call(TOOL, {})
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        self.assertEqual(result["period"], "all confirmed orders")
        # Odoo's own status of each order.
        statuses = {order: order.invoice_status for order in self.order_a1 + self.order_b1 + self.order_g1}
        self.assertEqual(
            statuses, {self.order_a1: "invoiced", self.order_b1: "to invoice", self.order_g1: "to invoice"}
        )
        by_status = self.report([], ["invoice_status"])
        labels = {
            "to invoice": "To Invoice",
            "invoiced": "Fully Invoiced",
            "upselling": "Upselling Opportunity",
        }
        self.assertEqual(
            result["by_invoice_status"],
            [
                {"invoice_status": labels[status], **by_status[status]}
                for status in ("to invoice", "upselling", "invoiced", "no")
                if status in by_status
            ],
        )
        totals = self.report([])[()]
        self.assertEqual(result["totals"], totals)
        # The class doc of _build_orders: 6 750 USD ordered; John's 1 000 and Beta's 100 EUR (125 USD)
        # invoiced, Gamma's credited back.
        self.assertEqual((totals["amount_untaxed"], totals["invoiced"]), (6750.0, 1125.0))
        self.assertEqual(totals["to_invoice"], 6750.0 - 1125.0)
        # The orders with the most left to invoice, each as the sales analysis has it.
        rows = result["orders_to_invoice"]
        self.assertEqual(
            [row["order"] for row in rows],
            [
                order.name
                for order in (self.order_g0, self.order_b1, self.order_a0, self.order_g1, self.order_a2)
                + (self.order_d1, self.order_d2)  # equal amounts: the first order first
            ],
        )
        beta = next(row for row in rows if row["order_id"] == self.order_b1.id)
        self.assertEqual(
            {key: beta[key] for key in ("amount_untaxed", "invoiced", "to_invoice")},
            {
                key: value
                for key, value in self.report([("name", "=", self.order_b1.name)])[()].items()
                if key != "orders"
            },
        )
        self.assertEqual(beta["invoice_status"], "To Invoice")
        # Each order as its own lines compute it (Odoo's stored untaxed amounts invoiced and to
        # invoice, in the order's currency), at the order's rate; its status is the order's own.
        labels = dict(self.env["sale.order"]._fields["invoice_status"]._description_selection(self.env))
        for row in rows:
            order = self.env["sale.order"].browse(row["order_id"])
            lines = order.order_line.filtered("product_id")
            self.assertEqual(
                (row["invoiced"], row["to_invoice"], row["invoice_status"]),
                (
                    round(sum(line.untaxed_amount_invoiced for line in lines) / order.currency_rate, 2),
                    round(sum(line.untaxed_amount_to_invoice for line in lines) / order.currency_rate, 2),
                    labels[order.invoice_status],
                ),
                order.name,
            )
        self.assertEqual(result["orders_with_amount_to_invoice"], 7)
        self.assertFalse(result["truncated"])

    def test_period_limit_and_salesperson(self):
        result = self.call(TOOL, {**APRIL, "limit": 2})
        self.assertEqual(result["period"], {"from": "2025-04-01", "to": "2025-04-30"})
        april = [("date", ">=", "2025-04-01"), ("date", "<", "2025-05-01")]
        self.assertEqual(result["totals"], self.report(april)[()])
        self.assertEqual(len(result["orders_to_invoice"]), 2)
        self.assertTrue(result["truncated"])
        self.order_g0.user_id = self.alice
        result = self.call(TOOL, {"salesperson": self.alice.login})
        self.assertEqual(result["totals"], self.report([("user_id", "=", self.alice.id)])[()])
        self.assertEqual([row["order"] for row in result["orders_to_invoice"]], [self.order_g0.name])

    def test_a_salesperson_sees_their_own_orders_only(self):
        (self.order_a1 + self.order_d1).user_id = self.bob
        result = self.call(TOOL, {}, user=self.bob)
        self.assertEqual(
            self.user_env(self.bob)["sale.order"].search([("state", "=", "sale")]),
            self.order_d1 + self.order_a1,
        )
        self.assertEqual(result["totals"], self.report([], user=self.bob)[()])
        self.assertEqual([row["order"] for row in result["orders_to_invoice"]], [self.order_d1.name])

    def test_company_b_figures_only_in_a_company_b_session(self):
        result = self.call(TOOL, {}, company=self.company_b)
        self.assertEqual(result["totals"], self.report([], company=self.company_b)[()])
        self.assertEqual((result["totals"]["invoiced"], result["totals"]["to_invoice"]), (0.0, 9000.0))
        with self.assertRaisesRegex(ToolInputError, "unknown sales team"):
            self.call(TOOL, {"team": self.team_b.name})
        self.assertNotIn("9000", str(self.call(TOOL, {"limit": 100})))
        with self.assertRaises(ToolDenied):
            self.call(TOOL, {}, user=self.user)
