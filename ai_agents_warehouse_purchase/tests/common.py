from odoo import Command

from odoo.addons.ai_agents_warehouse.tests.common import WarehouseCase


class PurchaseCase(WarehouseCase):
    """The warehouse case (see WarehouseCase) with Purchase: the products Odoo buys have the Buy
    route, so that Odoo's own Replenishment can order them to compare with, and one more product
    bought by the dozen.

    Reorder alerts of company A: Widget @ NOR/Stock (order 65 Units from Acme Supplies at 8),
    Bolt @ SOU/Stock (no vendor: skipped), Cable @ NOR/Stock (nothing on hand, 20..50 Units, Bolt & Co
    sells it by the dozen at 30: Odoo rounds the 50 Units up to 60, ordered as 5 Dozens).
    Company B: Widget @ BET/Stock (order 194 Units: 1200 - 999 on hand - 7 incoming).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.buy_route = env.ref("purchase_stock.route_warehouse0_buy")
        cls.uom_dozen = env.ref("uom.product_uom_dozen")
        cls.widget.route_ids = [Command.link(cls.buy_route.id)]
        cls.cable = env["product.product"].create(
            {
                "name": "Cable",
                "default_code": "CAB",
                "type": "consu",
                "is_storable": True,
                "categ_id": cls.hardware.id,
                "route_ids": [Command.link(cls.buy_route.id)],
                "seller_ids": [
                    Command.create(
                        {
                            "partner_id": cls.boltco.id,
                            "delay": 3,
                            "price": 30.0,
                            "product_uom_id": cls.uom_dozen.id,
                        }
                    )
                ],
            }
        )
        cls.op_cable = env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.cable.id,
                "location_id": cls.north.lot_stock_id.id,
                "product_min_qty": 20,
                "product_max_qty": 50,
                "trigger": "manual",
            }
        )
        groups = "base.group_user,stock.group_stock_user,purchase.group_purchase_user,ai_core.group_aia_user"
        cls.buyer = cls.new_user("wh_buyer", groups, cls.company_a)
        cls.buyer_ab = cls.new_user("wh_buyer_ab", groups, cls.company_a | cls.company_b)
        cls.purchaser = cls.new_user(
            "wh_purchaser",
            "base.group_user,purchase.group_purchase_user,ai_core.group_aia_user",
            cls.company_a,
        )
        cls.stock_admin = cls.new_user(
            "wh_admin", "base.group_user,stock.group_stock_manager,ai_core.group_aia_user", cls.company_a
        )
        cls.tool_user = cls.buyer

    def rfqs(self, *partners):
        return self.env["purchase.order"].search(
            [("partner_id", "in", [partner.id for partner in partners or (self.acme, self.boltco)])],
            order="id",
        )
