from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import WarehouseCase

TOOL = "warehouse.get_pending_deliveries"


def utc(value):
    return value.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")


def odoo_transfers(user, company, *filter_names):
    """The transfers Odoo lists with the named filters of stock's transfers search view (e.g.
    "delivery" and "late"), for ``user`` working in ``company`` alone; the web client evaluates the
    view's ``current_date`` as the user's today."""
    env = user.env(user=user, context={"allowed_company_ids": company.ids})
    Picking = env["stock.picking"]
    view = env.ref("stock.view_picking_internal_search")
    arch = etree.fromstring(Picking.get_view(view.id, "search")["arch"])
    today = fields.Date.context_today(Picking, env.cr.now())
    domain = [("state", "not in", ("done", "cancel"))]
    for name in filter_names:
        [node] = arch.xpath(f"//filter[@name='{name}']")
        domain += safe_eval(node.get("domain"), {"current_date": today.strftime("%Y-%m-%d")})
    return Picking.search(domain)


@tagged("post_install", "-at_install")
class TestPendingDeliveries(WarehouseCase):
    """Beside the case's open NOR delivery of 15 Widget (no customer, due now): a delivery to Zen
    Retail four days late, one whose pick is planned after the delivery's own date (Odoo's delay
    alert), a draft one overdue (never late), and company B's delivery of 9 Widget, a week late."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zen = cls.env["res.partner"].create({"name": "Zen Retail", "is_company": True})
        cls.zen_shop = cls.env["res.partner"].create({"name": "Zen Shop", "parent_id": cls.zen.id})
        nor = cls.north.lot_stock_id
        cls.late_delivery = cls._transfer(
            cls.north.out_type_id,
            nor,
            cls.customer_location,
            [(cls.gadget, 2)],
            partner=cls.zen_shop,
            origin="SO-ZEN-4",
            scheduled_date=cls.now - timedelta(days=4),
        )
        cls.late_delivery.action_assign()
        # A pick from the shelf to the output planned in three days feeds a delivery due tomorrow.
        pick = (
            cls.env["stock.move"]
            .with_company(cls.company_a)
            .create(
                {
                    "product_id": cls.bolt.id,
                    "product_uom_qty": 20,
                    "location_id": cls.shelf.id,
                    "location_dest_id": nor.id,
                    "date": cls.now + timedelta(days=3),
                }
            )
        )
        pick._action_confirm()
        cls.alerted = (
            cls.env["stock.picking"]
            .with_company(cls.company_a)
            .create(
                {
                    "picking_type_id": cls.north.out_type_id.id,
                    "location_id": nor.id,
                    "location_dest_id": cls.customer_location.id,
                    "partner_id": cls.zen.id,
                    "scheduled_date": cls.now + timedelta(days=1),
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": cls.bolt.id,
                                "product_uom_qty": 20,
                                "location_id": nor.id,
                                "location_dest_id": cls.customer_location.id,
                                "procure_method": "make_to_order",
                                "move_orig_ids": [Command.link(pick.id)],
                            }
                        )
                    ],
                }
            )
        )
        cls.alerted.action_confirm()
        cls.pick_date = pick.date
        cls.draft = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.north.out_type_id.id,
                "location_id": nor.id,
                "location_dest_id": cls.customer_location.id,
                "partner_id": cls.zen.id,
                "scheduled_date": cls.now - timedelta(days=2),
                "move_ids": [
                    Command.create(
                        {
                            "product_id": cls.widget.id,
                            "product_uom_qty": 1,
                            "location_id": nor.id,
                            "location_dest_id": cls.customer_location.id,
                        }
                    )
                ],
            }
        )
        cls.beta_delivery = cls._transfer(
            cls.beta.out_type_id,
            cls.beta.lot_stock_id,
            cls.customer_location,
            [(cls.widget, 9)],
            partner=cls.zen,
            scheduled_date=cls.now - timedelta(days=7),
        )
        cls.beta_delivery.action_assign()

    def test_deliveries_not_done_with_customer_dates_delay_alert_late_flag_and_lines(self):
        self.assertEqual(
            [self.late_delivery.state, self.alerted.state, self.draft.state], ["assigned", "waiting", "draft"]
        )
        result = self.call(TOOL)
        by_reference = {row["reference"]: row for row in result["rows"]}
        self.assertEqual(
            by_reference[self.late_delivery.name],
            {
                "reference": self.late_delivery.name,
                "partner": "Zen Retail, Zen Shop",
                "origin": "SO-ZEN-4",
                "scheduled_date": utc(self.now - timedelta(days=4)),
                "deadline": None,
                "expected_delay_date": None,
                "late": True,
                "days_late": 4,
                "state": "assigned",
                "warehouse": "North Depot",
                "lines": [{"product": "[GAD] Gadget", "quantity": 2.0, "uom": "Units"}],
                "more_lines": 0,
            },
        )
        # Odoo's own delay alert on the delivery: the date its pick now promises the goods.
        self.assertEqual(self.alerted.delay_alert_date, self.pick_date)
        alerted = by_reference[self.alerted.name]
        self.assertEqual(alerted["expected_delay_date"], utc(self.alerted.delay_alert_date))
        self.assertEqual((alerted["late"], alerted["state"]), (False, "waiting"))
        self.assertEqual(by_reference[self.draft.name]["late"], False)
        # The earliest first; receipts, company B's delivery and done deliveries are not there.
        odoo_deliveries = odoo_transfers(self.keeper, self.company_a, "delivery")
        self.assertEqual(
            [row["reference"] for row in result["rows"]],
            odoo_deliveries.sorted(lambda picking: (picking.scheduled_date, picking.id)).mapped("name"),
        )
        odoo_late = odoo_transfers(self.keeper, self.company_a, "delivery", "late")
        self.assertEqual(odoo_late, self.late_delivery)
        self.assertEqual(result["totals"], {"deliveries": len(odoo_deliveries), "late": len(odoo_late)})
        self.assertFalse(result["truncated"])

    def test_late_as_odoo_filters_them_in_both_companies(self):
        self.keeper.tz = "Pacific/Auckland"
        self.keeper_b.tz = "America/Los_Angeles"
        for user, company in (
            (self.keeper, self.company_a),
            (self.keeper_b, self.company_b),
            (self.keeper_ab, self.company_b),
        ):
            with self.subTest(user=user.login, company=company.name):
                odoo_late = odoo_transfers(user, company, "delivery", "late")
                self.assertTrue(odoo_late)
                result = self.call(TOOL, {"late_only": True}, user=user, company=company)
                self.assertEqual(
                    [row["reference"] for row in result["rows"]],
                    odoo_late.sorted(lambda picking: (picking.scheduled_date, picking.id)).mapped("name"),
                )
                self.assertEqual(result["totals"], {"deliveries": len(odoo_late), "late": len(odoo_late)})
        beta = self.call(TOOL, user=self.keeper_b, company=self.company_b)
        self.assertEqual([row["reference"] for row in beta["rows"]], [self.beta_delivery.name])
        self.assertEqual(beta["rows"][0]["days_late"], 7)

    def test_filters(self):
        def references(args):
            return [row["reference"] for row in self.call(TOOL, args)["rows"]]

        # A customer's shops receive for it.
        self.assertEqual(
            references({"partner": "Zen Retail"}),
            [self.late_delivery.name, self.draft.name, self.alerted.name],
        )
        self.assertEqual(references({"product": "BLT"}), [self.alerted.name])
        self.assertEqual(references({"warehouse": "SOU"}), [])
        self.assertEqual(references({"late_only": True, "warehouse": "NOR"}), [self.late_delivery.name])

    def test_top_n_is_flagged_truncated(self):
        result = self.call(TOOL, {"limit": 1})
        self.assertEqual([row["reference"] for row in result["rows"]], [self.late_delivery.name])
        self.assertTrue(result["truncated"])
        self.assertEqual(result["totals"]["late"], 1)

    def test_product_names_are_odoos_for_variants_and_products_without_code(self):
        color = self.env["product.attribute"].create(
            {
                "name": "Color",
                "value_ids": [Command.create({"name": "Red"}), Command.create({"name": "Blue"})],
            }
        )
        template = self.env["product.template"].create(
            {
                "name": "Lamp",
                "is_storable": True,
                "attribute_line_ids": [
                    Command.create(
                        {"attribute_id": color.id, "value_ids": [Command.set(color.value_ids.ids)]}
                    )
                ],
            }
        )
        red_lamp = template.product_variant_ids[0]
        red_lamp.default_code = "LMP-R"
        plain = self.env["product.product"].create({"name": "Plain Crate", "is_storable": True})
        delivery = self._transfer(
            self.north.out_type_id,
            self.north.lot_stock_id,
            self.customer_location,
            [(red_lamp, 1), (template.product_variant_ids[1], 2), (plain, 3)],
            scheduled_date=self.now - timedelta(days=30),
        )
        [row] = [row for row in self.call(TOOL)["rows"] if row["reference"] == delivery.name]
        self.assertEqual(
            [line["product"] for line in row["lines"]],
            [
                product.display_name
                for product in self.env["product.product"].search(
                    [("id", "in", delivery.move_ids.product_id.ids)]
                )
            ],
        )
        self.assertIn("[LMP-R] Lamp (Red)", [line["product"] for line in row["lines"]])

    def test_partner_names_are_odoos_display_names(self):
        """A company, its contact, its unnamed delivery address (named after its type) and a
        person: each delivery's partner reads as Odoo's own display name of it."""
        address = self.env["res.partner"].create({"type": "delivery", "parent_id": self.zen.id})
        person = self.env["res.partner"].create({"name": "Ana Ruiz"})
        deliveries = self.late_delivery | self.alerted
        for partner in (address, person):
            deliveries |= self._transfer(
                self.north.out_type_id,
                self.north.lot_stock_id,
                self.customer_location,
                [(self.widget, 1)],
                partner=partner,
                scheduled_date=self.now - timedelta(days=1),
            )
        by_reference = {row["reference"]: row["partner"] for row in self.call(TOOL)["rows"]}
        odoo_names = {
            picking.name: picking.partner_id.display_name for picking in deliveries.with_user(self.keeper)
        }
        self.assertEqual({name: by_reference[name] for name in odoo_names}, odoo_names)
        self.assertEqual(
            sorted(odoo_names.values()),
            ["Ana Ruiz", "Zen Retail", "Zen Retail, Delivery", "Zen Retail, Zen Shop"],
        )

    def test_a_partner_of_another_company_is_named_only_to_a_user_of_both(self):
        """Odoo's multi-company rule of partners decides: a customer moved to company B after its
        company A delivery was made is named to a user allowed in both, and never to a user of
        company A only."""
        secret = self.env["res.partner"].create({"name": "Beta Secret Buyer"})
        delivery = self._transfer(
            self.north.out_type_id,
            self.north.lot_stock_id,
            self.customer_location,
            [(self.widget, 1)],
            partner=secret,
        )
        secret.company_id = self.company_b
        rows = self.call(TOOL, user=self.keeper_ab, company=self.company_a)["rows"]
        self.assertEqual(
            [row["partner"] for row in rows if row["reference"] == delivery.name], ["Beta Secret Buyer"]
        )
        with self.assertRaises(ToolDenied) as caught:
            self.call(TOOL, user=self.keeper, company=self.company_a)
        self.assertNotIn("Beta Secret Buyer", str(caught.exception))

    def test_company_b_warehouse_and_products_cannot_be_named_from_company_a(self):
        kestrel = self.env["product.product"].create(
            {"name": "Kestrel", "default_code": "KES", "is_storable": True, "company_id": self.company_b.id}
        )
        for args in ({"warehouse": self.beta.id}, {"warehouse": "BET"}, {"product": kestrel.id}):
            with self.subTest(args=args), self.assertRaises(ToolInputError):
                self.call(TOOL, args, user=self.keeper_ab, company=self.company_a)

    def test_bad_input(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"partner": "Nobody Ltd"}, "unknown partner 'Nobody Ltd'"),
                ({"late_only": "yes"}, "late_only: 'yes' is not of type 'boolean'"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)
