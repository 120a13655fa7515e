from datetime import timedelta

from odoo.tests import tagged

from .common import WarehouseCase

TOOL = "warehouse.get_pending_receipts"


def utc(value):
    return value.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")


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
