from datetime import datetime, time, timedelta

import pytz
from lxml import etree

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import WarehouseCase

TOOL = "warehouse.get_pending_receipts"


def utc(value):
    return value.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")


def odoo_late_receipts(user, company):
    """The receipts Odoo shows with its own "Receipts" and "Late" filters on transfers, read from
    stock's search view, for ``user`` working in ``company`` alone. The web client evaluates the
    view's ``current_date`` as the user's today."""
    env = user.env(user=user, context={"allowed_company_ids": company.ids})
    Picking = env["stock.picking"]
    view = env.ref("stock.view_picking_internal_search")
    arch = etree.fromstring(Picking.get_view(view.id, "search")["arch"])
    today = fields.Date.context_today(Picking, env.cr.now())
    domain = []
    for name in ("reception", "late"):
        [node] = arch.xpath(f"//filter[@name='{name}']")
        domain += safe_eval(node.get("domain"), {"current_date": today.strftime("%Y-%m-%d")})
    return Picking.search(domain)


@tagged("post_install", "-at_install")
class TestPendingReceipts(WarehouseCase):
    def test_receipts_not_done_with_partner_origin_dates_late_flag_and_lines(self):
        result = self.call(TOOL)
        self.assertEqual(
            result["rows"],
            [
                {
                    "reference": self.late_receipt.name,
                    "partner": "Acme Supplies",
                    "origin": "PO-ACME-7",
                    "scheduled_date": utc(self.now - timedelta(days=3)),
                    "deadline": None,
                    "late": True,
                    "days_late": 3,
                    "state": "assigned",
                    "warehouse": "North Depot",
                    "lines": [
                        {"product": "[BLT] Bolt", "quantity": 100.0, "uom": "kg"},
                        {"product": "[WID] Widget", "quantity": 50.0, "uom": "Units"},
                    ],
                    "more_lines": 0,
                },
                {
                    "reference": self.future_receipt.name,
                    "partner": "Bolt & Co",
                    "origin": "PO-BOLT-2",
                    "scheduled_date": utc(self.now + timedelta(days=5)),
                    "deadline": None,
                    "late": False,
                    "days_late": 0,
                    "state": "assigned",
                    "warehouse": "South Depot",
                    # Quantities stay in the unit of the receipt line.
                    "lines": [
                        {"product": "[BLT] Bolt", "quantity": 500.0, "uom": "g"},
                        {"product": "[GAD] Gadget", "quantity": 12.0, "uom": "Units"},
                    ],
                    "more_lines": 0,
                },
            ],
        )
        # The done receipt, the cancelled one and company B's are not pending for company A.
        self.assertEqual(result["totals"], {"receipts": 2, "late": 1})
        self.assertFalse(result["truncated"])

    def test_filters(self):
        def references(args):
            return [row["reference"] for row in self.call(TOOL, args)["rows"]]

        late, future = self.late_receipt.name, self.future_receipt.name
        self.assertEqual(references({"late_only": True}), [late])
        self.assertEqual(references({"partner": "bolt & co"}), [future])
        self.assertEqual(references({"partner": self.acme.id}), [late])
        self.assertEqual(references({"warehouse": "SOU"}), [future])
        self.assertEqual(references({"product": "BLT"}), [late, future])
        self.assertEqual(references({"product": "Widget"}), [late])

    def test_top_n_is_flagged_truncated(self):
        result = self.call(TOOL, {"limit": 1})
        self.assertEqual([row["reference"] for row in result["rows"]], [self.late_receipt.name])
        self.assertTrue(result["truncated"])
        self.assertEqual(result["totals"], {"receipts": 2, "late": 1})

    def test_company_b_session_sees_only_company_b_receipts(self):
        for user in (self.keeper_b, self.keeper_ab):
            result = self.call(TOOL, user=user, company=self.company_b)
            self.assertEqual([row["reference"] for row in result["rows"]], [self.beta_receipt.name])
            self.assertEqual(
                result["rows"][0]["lines"], [{"product": "[WID] Widget", "quantity": 7.0, "uom": "Units"}]
            )

    def test_bad_input(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"partner": "Nobody Ltd"}, "unknown partner 'Nobody Ltd'"),
                ({"product": "Flux capacitor"}, "unknown product 'Flux capacitor'"),
                ({"limit": -1}, "limit: -1 is less than the minimum of 1"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)


@tagged("post_install", "-at_install")
class TestLateReceiptsAsOdooFiltersThem(WarehouseCase):
    """Late is what Odoo's Late filter on transfers says: ready or waiting receipts scheduled before
    the user's today, or with a deadline passed or before their scheduled date; never a draft, nor
    a receipt due today."""

    def _receipts(self, user, company, warehouse):
        """Four receipts around the user's today (beside the case's own): a draft scheduled two days
        ago, one due today at the user's midnight, a ready one due in five days whose deadline is in
        two, and one waiting for another operation, scheduled yesterday."""
        tz = pytz.timezone(user.tz or "UTC")
        today = self.now.replace(tzinfo=pytz.utc).astimezone(tz).date()
        midnight = tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        Picking = self.env["stock.picking"].with_company(company)
        stock = warehouse.lot_stock_id

        def receipt(scheduled, source=self.supplier_location, **move_values):
            return Picking.create(
                {
                    "picking_type_id": warehouse.in_type_id.id,
                    "location_id": source.id,
                    "location_dest_id": stock.id,
                    "partner_id": self.acme.id,
                    "scheduled_date": scheduled,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": self.widget.id,
                                "product_uom_qty": 4,
                                "location_id": source.id,
                                "location_dest_id": stock.id,
                                **move_values,
                            }
                        )
                    ],
                }
            )

        draft = receipt(self.now - timedelta(days=2))
        due_today = receipt(midnight)
        due_today.action_confirm()
        deadline = receipt(self.now + timedelta(days=5), date_deadline=self.now + timedelta(days=2))
        deadline.action_confirm()
        # Goods the vendor ships to the company's transit location first: the receipt from there
        # waits for that move (a receipt straight from the vendor is ready at once).
        transit = company.internal_transit_location_id
        shipment = (
            self.env["stock.move"]
            .with_company(company)
            .create(
                {
                    "product_id": self.widget.id,
                    "product_uom_qty": 4,
                    "location_id": self.supplier_location.id,
                    "location_dest_id": transit.id,
                }
            )
        )
        shipment._action_confirm()
        waiting = receipt(
            self.now - timedelta(days=1), source=transit, move_orig_ids=[Command.link(shipment.id)]
        )
        waiting.action_confirm()
        self.assertEqual(
            [draft.state, due_today.state, deadline.state, waiting.state],
            ["draft", "assigned", "assigned", "waiting"],
        )
        self.assertTrue(deadline.has_deadline_issue)
        return draft, due_today, deadline, waiting

    def assertLateAsOdoo(self, user, company, warehouse, expected_extra):
        draft, due_today, deadline, waiting = self._receipts(user, company, warehouse)
        odoo_late = odoo_late_receipts(user, company)
        # What the scenario is built for, as Odoo's own filter sees it.
        self.assertIn(deadline, odoo_late)
        self.assertIn(waiting, odoo_late)
        self.assertNotIn(draft, odoo_late)
        self.assertNotIn(due_today, odoo_late)
        self.assertEqual(odoo_late - deadline - waiting, expected_extra)

        result = self.call(TOOL, user=user, company=company)
        self.assertFalse(result["truncated"])
        self.assertEqual(
            {row["reference"] for row in result["rows"] if row["late"]}, set(odoo_late.mapped("name"))
        )
        self.assertEqual(result["totals"]["late"], len(odoo_late))
        late_only = self.call(TOOL, {"late_only": True}, user=user, company=company)
        self.assertEqual(
            [row["reference"] for row in late_only["rows"]],
            odoo_late.sorted(lambda picking: (picking.scheduled_date, picking.id)).mapped("name"),
        )
        self.assertEqual(late_only["totals"], {"receipts": len(odoo_late), "late": len(odoo_late)})
        by_reference = {row["reference"]: row for row in result["rows"]}
        self.assertEqual(by_reference[deadline.name]["deadline"], utc(deadline.date_deadline))
        self.assertEqual(by_reference[deadline.name]["days_late"], 0)
        self.assertEqual(by_reference[draft.name]["days_late"], 0)

    def test_company_a(self):
        self.keeper.tz = "Pacific/Auckland"
        self.assertLateAsOdoo(self.keeper, self.company_a, self.north, self.late_receipt)

    def test_company_b(self):
        self.keeper_b.tz = "America/Los_Angeles"
        self.assertLateAsOdoo(self.keeper_b, self.company_b, self.beta, self.env["stock.picking"])

    def test_user_of_both_companies(self):
        for company, warehouse, extra in (
            (self.company_a, self.south, self.late_receipt),
            (self.company_b, self.beta, self.env["stock.picking"]),
        ):
            with self.subTest(company=company.name):
                self.assertLateAsOdoo(self.keeper_ab, company, warehouse, extra)
