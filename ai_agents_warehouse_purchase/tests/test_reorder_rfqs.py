from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

from .common import PurchaseCase

TOOL = "warehouse.create_rfqs_for_reorder_alerts"
CALL = ("warehouse_create_rfqs_for_reorder_alerts", {})


@tagged("post_install", "-at_install")
class TestReorderRfqs(PurchaseCase):
    def expected_preview(self):
        widget, bolt, cable = self.op_widget.name, self.op_bolt.name, self.op_cable.name
        return (
            f"Create 2 draft RFQ(s) in {self.company_a.name}:\n"
            f"- RFQ to Acme Supplies (receipt North Depot: Receipts, in USD, source {widget}):\n"
            f"  - [WID] Widget: 65 Units at 8 (rule {widget}, NOR/Stock)\n"
            f"- RFQ to Bolt & Co (receipt North Depot: Receipts, in USD, source {cable}):\n"
            f"  - [CAB] Cable: 5 Dozens at 30 (rule {cable}, NOR/Stock)\n"
            f"Skipped: [BLT] Bolt at SOU/Stock ({bolt}): no vendor on the product for this company."
        )

    def assertOrdered(self, output):
        """``output`` names the two RFQs the alerts make, as created: per vendor, the rule's line in
        the vendor's unit, and Bolt skipped (no vendor)."""
        acme, boltco = self.rfqs(self.acme), self.rfqs(self.boltco)
        self.assertEqual((len(acme), len(boltco)), (1, 1))
        self.assertEqual(
            output["created"],
            [
                {
                    "id": order.id,
                    "reference": order.name,
                    "vendor": order.partner_id.name,
                    "receipt": "North Depot: Receipts",
                    "currency": "USD",
                    "state": "draft",
                    "amount_untaxed": amount,
                    "lines": [
                        {
                            "product": product,
                            "quantity": quantity,
                            "uom": uom,
                            "unit_price": price,
                            "orderpoint": orderpoint.name,
                            "location": "NOR/Stock",
                        }
                    ],
                }
                for order, amount, product, quantity, uom, price, orderpoint in (
                    (acme, 520.0, "[WID] Widget", 65.0, "Units", 8.0, self.op_widget),
                    (boltco, 150.0, "[CAB] Cable", 5.0, "Dozens", 30.0, self.op_cable),
                )
            ],
        )
        self.assertEqual([rule["orderpoint_id"] for rule in output["skipped"]], self.op_bolt.ids)
        # What Odoo's own records say: draft RFQs of company A into North Depot, each line the
        # rule's (so Odoo counts it as in progress for the rule) in the vendor's purchase unit.
        for order, orderpoint, quantity, uom in (
            (acme, self.op_widget, 65.0, self.uom_unit),
            (boltco, self.op_cable, 5.0, self.uom_dozen),
        ):
            self.assertEqual(
                (order.state, order.company_id, order.origin), ("draft", self.company_a, orderpoint.name)
            )
            self.assertEqual(order.picking_type_id, self.north.in_type_id)
            self.assertEqual(
                (
                    order.order_line.orderpoint_id,
                    order.order_line.product_qty,
                    order.order_line.product_uom_id,
                ),
                (orderpoint, quantity, uom),
            )
            self.assertEqual(order.create_uid, self.buyer)

    # === THE THREE MODES, THROUGH THE WAREHOUSE AGENT === #

    def test_shadow_mode_previews_exactly_the_rfqs_and_creates_nothing(self):
        model, session = self.run_turn("Order what is below its minimum.", CALL, "I would create 2 RFQs.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.rfqs())
        self.assertIn(self.expected_preview().split("\n")[0], self.told(model).content)

    def test_approval_mode_creates_the_rfqs_once_approved_as_the_requester(self):
        self.needs_approval()
        model, session = self.run_turn("Order what is below its minimum.", CALL, "unused")
        self.assertEqual(session.state, "waiting_approval")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.rfqs())
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual((session.state, execution.status), ("done", "ok"))
        # The audit row is the diff: the RFQs created, by id and reference, with their lines.
        self.assertOrdered(execution.output)

    def test_approval_mode_rejected_creates_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Order what is below its minimum.", CALL, "unused")
        self.decide(session, model, approve=False, answer="Not ordered.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.rfqs())

    def test_trusted_mode_creates_the_rfqs(self):
        self.trusted()
        model, session = self.run_turn("Order what is below its minimum.", CALL, "Created 2 RFQs.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertOrdered(execution.output)

    # === FIGURES: ODOO'S OWN === #

    def test_the_rfqs_are_the_ones_odoos_replenishment_makes(self):
        """Odoo's Replenishment "Order" on the same rules: the same vendors, products, quantities,
        purchase units and prices. Its RFQs are cancelled before the tool runs (cancelled RFQs are
        no quantity in progress)."""
        orderpoints = self.op_widget | self.op_cable
        # The quantities to order Odoo shows, refreshed as its Replenishment view does.
        orderpoints._compute_qty_to_order_computed()
        self.assertEqual(orderpoints.mapped("qty_to_order"), [65.0, 60.0])
        # The heart of its "Order" button (action_replenish), without the clean-up after it that
        # deletes the rules the superuser made (these are, in a test).
        orderpoints._procure_orderpoint_confirm(company_id=self.company_a)
        odoo_orders = self.rfqs()

        def lines(orders):
            return sorted(
                (
                    line.partner_id.name,
                    line.product_id.default_code,
                    line.product_qty,
                    line.product_uom_id.name,
                    line.price_unit,
                    line.orderpoint_id.id,
                )
                for line in orders.order_line
            )

        expected = lines(odoo_orders)
        self.assertEqual(len(expected), 2)
        odoo_orders.button_cancel()
        self.call(TOOL)
        self.assertEqual(lines(self.rfqs() - odoo_orders), expected)
        # Odoo's own computation now sees the rules covered by the RFQs.
        orderpoints._compute_qty_to_order_computed()
        # Cable: 60 Units on order (5 Dozens) for a maximum of 50: 10 over, nothing to order.
        self.assertEqual(orderpoints.mapped("qty_to_order"), [0.0, -10.0])

    def test_the_preview_is_what_the_call_creates(self):
        env = self.env(
            user=self.buyer, context=dict(self.env.context, allowed_company_ids=self.company_a.ids)
        )
        preview = CATALOGUE.get(TOOL).preview(OdooToolContext(env), {"warehouse": "NOR"})
        self.assertFalse(self.rfqs())
        output = self.call(TOOL, {"warehouse": "NOR"})
        self.assertEqual(output["filters"], {"warehouse": "North Depot"})
        self.assertEqual(preview, "\n".join(self.expected_preview().split("\n")[:5]))
        self.assertOrdered({**output, "skipped": [{"orderpoint_id": self.op_bolt.id}]})

    # === IDEMPOTENCY === #

    def test_a_second_call_with_the_same_alerts_creates_nothing(self):
        first = self.call(TOOL)
        second = self.call(TOOL)
        self.assertEqual(len(first["created"]), 2)
        self.assertEqual(second["created"], [])
        self.assertEqual(
            [(rule["orderpoint_id"], rule["rfqs"]) for rule in second["already_ordered"]],
            [
                (self.op_widget.id, [self.rfqs(self.acme).name]),
                (self.op_cable.id, [self.rfqs(self.boltco).name]),
            ],
        )
        self.assertEqual(len(self.rfqs()), 2)

    def test_a_manual_quantity_is_ordered_once(self):
        """Odoo orders a rule's manual quantity and then clears it; the tool cannot clear it (a
        buyer may not write reordering rules), so a rule already on an open RFQ is back on Odoo's
        computed quantity, which deducts that RFQ."""
        self.op_widget.qty_to_order_manual = 100
        first = self.call(TOOL, {"product": "WID"})
        self.assertEqual(first["created"][0]["lines"][0]["quantity"], 100.0)
        self.assertEqual(self.call(TOOL, {"product": "WID"})["created"], [])
        # A cancelled RFQ no longer covers the rule: it is ordered again.
        self.rfqs(self.acme).button_cancel()
        self.assertEqual(self.call(TOOL, {"product": "WID"})["created"][0]["lines"][0]["quantity"], 100.0)

    def test_snoozed_rules_are_not_ordered(self):
        self.op_cable.snoozed_until = self.now.date().replace(year=self.now.year + 1)
        output = self.call(TOOL)
        self.assertEqual([order["vendor"] for order in output["created"]], ["Acme Supplies"])

    # === RIGHTS AND COMPANIES === #

    def test_a_user_without_purchase_rights_is_refused(self):
        message = self.assertDenied(TOOL, user=self.keeper)
        self.assertIn("Purchase", message)
        # Without Inventory rights neither: the alerts are inventory data.
        self.assertIn("Inventory", self.assertDenied(TOOL, user=self.purchaser))
        self.assertFalse(self.rfqs())
        # In a turn, even the shadow preview says it is refused, and nothing is created.
        _model, session = self.run_turn(
            "Order what is low.", CALL, "You need Purchase rights.", user=self.keeper
        )
        self.assertIn("AccessError", session.execution_ids.preview)
        self.trusted()
        self.assertDeniedTurn("Order what is low.", CALL, "You need Purchase rights.", user=self.keeper)
        self.assertFalse(self.rfqs())

    def test_a_company_a_session_orders_for_company_a_only(self):
        with self.assertRaisesRegex(ToolInputError, "unknown warehouse"):
            self.call(TOOL, {"warehouse": self.beta.id}, user=self.buyer_ab)
        output = self.call(TOOL, user=self.buyer_ab)
        self.assertEqual(self.rfqs().company_id, self.company_a)
        self.assertNotIn(self.op_beta.name, str(output))
        # In company B's session, company B's rule: 1200 - (999 on hand + 7 incoming). Acme's
        # price is company A's (made in A): company B buys from its own vendor, or not at all.
        output = self.call(TOOL, user=self.buyer_ab, company=self.company_b)
        self.assertEqual(
            (output["created"], [rule["orderpoint_id"] for rule in output["skipped"]]), ([], self.op_beta.ids)
        )
        self.env["product.supplierinfo"].create(
            {
                "product_tmpl_id": self.widget.product_tmpl_id.id,
                "partner_id": self.boltco.id,
                "price": 9.0,
                "currency_id": self.eur.id,
                "company_id": self.company_b.id,
            }
        )
        # (Vendors are cached per company: a new request would not see the old list.)
        self.env.invalidate_all()
        output = self.call(TOOL, user=self.buyer_ab, company=self.company_b)
        [order] = self.rfqs().filtered(lambda order: order.company_id == self.company_b)
        self.assertEqual([order["id"] for order in output["created"]], order.ids)
        self.assertEqual(
            (order.order_line.orderpoint_id, order.order_line.product_qty), (self.op_beta, 194.0)
        )
        self.assertEqual(order.picking_type_id, self.beta.in_type_id)
        self.assertEqual(
            (order.partner_id, order.currency_id, order.order_line.price_unit), (self.boltco, self.eur, 9.0)
        )
