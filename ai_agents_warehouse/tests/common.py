from datetime import timedelta

from odoo import Command

from odoo.addons.ai_core.tests.pack_case import AgentPackCase


class WarehouseCase(AgentPackCase):
    """Two companies with real stock built through Odoo's own flows (quants, receipts, deliveries,
    an internal transfer, reordering rules). The figures each test expects follow from here:

    Company A (in its own currency), warehouses NOR (North Depot) and SOU (South Depot); company B
    (in euros), warehouse BET.

    ======== ============================================= =========================================
    product  on hand                                       moves
    ======== ============================================= =========================================
    Widget   NOR/Stock 100 (15 reserved), SOU/Stock 30,   NOR delivery of 5 done 10 days ago, open
             BET/Stock 999 (company B)                     NOR delivery of 15 (reserved)
    Bolt     NOR/Stock/Shelf 1 250 kg                      delivery of 50 kg done 60 days ago
    Gadget   NOR/Stock 5, NOR/Stock/Shelf 1 3              receipt of 8 done, internal transfer of 3
    Serum    NOR/Stock lots LOT-A 12, LOT-B 5              none
    ======== ============================================= =========================================

    Costs (standard price): Widget 10 (12 in company B), Bolt 2.5 per kg, Gadget 40, Serum 5.
    Pending receipts in A: Acme Supplies, 3 days late, to NOR (Widget 50 Units, Bolt 100 kg);
    Bolt & Co, in 5 days, to SOU (Gadget 12 Units, Bolt 500 g). In B: Acme Supplies to BET (Widget 7).
    Reordering rules: Widget @ NOR/Stock 150..200, Gadget @ NOR/Stock 5..10, Bolt @ SOU/Stock 10..40 kg,
    Widget @ BET/Stock 1100..1200 (company B).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.now = env.cr.now()
        # Two companies in two currencies: values are in each company's own.
        cls.eur = env.ref("base.EUR")
        cls.eur.active = True
        cls.company_b.currency_id = cls.eur
        cls.uom_unit = env.ref("uom.product_uom_unit")
        cls.uom_kg = env.ref("uom.product_uom_kgm")
        cls.uom_gram = env.ref("uom.product_uom_gram")
        cls.supplier_location = env.ref("stock.stock_location_suppliers")
        cls.customer_location = env.ref("stock.stock_location_customers")

        Warehouse = env["stock.warehouse"]
        cls.north = Warehouse.create({"name": "North Depot", "code": "NOR", "company_id": cls.company_a.id})
        cls.south = Warehouse.create({"name": "South Depot", "code": "SOU", "company_id": cls.company_a.id})
        cls.beta = Warehouse.with_company(cls.company_b).create(
            {"name": "Beta Depot", "code": "BET", "company_id": cls.company_b.id}
        )
        cls.shelf = env["stock.location"].create(
            {"name": "Shelf 1", "location_id": cls.north.lot_stock_id.id}
        )

        Category = env["product.category"]
        cls.hardware = Category.create({"name": "Hardware"})
        cls.fasteners = Category.create({"name": "Fasteners", "parent_id": cls.hardware.id})
        cls.electronics = Category.create({"name": "Electronics"})
        cls.acme = env["res.partner"].create({"name": "Acme Supplies", "is_company": True})
        cls.boltco = env["res.partner"].create({"name": "Bolt & Co", "is_company": True})

        def product(name, code, category, price, **values):
            return env["product.product"].create(
                {
                    "name": name,
                    "default_code": code,
                    "type": "consu",
                    "is_storable": True,
                    "categ_id": category.id,
                    "standard_price": price,
                    **values,
                }
            )

        cls.widget = product(
            "Widget",
            "WID",
            cls.hardware,
            10.0,
            seller_ids=[Command.create({"partner_id": cls.acme.id, "delay": 7, "price": 8.0})],
        )
        cls.widget.with_company(cls.company_b).standard_price = 12.0
        cls.bolt = product("Bolt", "BLT", cls.fasteners, 2.5, uom_id=cls.uom_kg.id)
        cls.gadget = product("Gadget", "GAD", cls.electronics, 40.0)
        cls.serum = product("Serum", "SER", cls.electronics, 5.0, tracking="lot")
        cls.lot_a, cls.lot_b = env["stock.lot"].create(
            [
                {"name": "LOT-A", "product_id": cls.serum.id, "company_id": cls.company_a.id},
                {"name": "LOT-B", "product_id": cls.serum.id, "company_id": cls.company_a.id},
            ]
        )

        Quant = env["stock.quant"]
        nor, sou, bet = cls.north.lot_stock_id, cls.south.lot_stock_id, cls.beta.lot_stock_id
        Quant._update_available_quantity(cls.widget, nor, 105)
        Quant._update_available_quantity(cls.widget, sou, 30)
        Quant.with_company(cls.company_b)._update_available_quantity(cls.widget, bet, 999)
        Quant._update_available_quantity(cls.bolt, cls.shelf, 300)
        Quant._update_available_quantity(cls.serum, nor, 12, lot_id=cls.lot_a)
        Quant._update_available_quantity(cls.serum, nor, 5, lot_id=cls.lot_b)

        # Done moves, dated in the past where the test needs it.
        old_widget = cls._transfer(cls.north.out_type_id, nor, cls.customer_location, [(cls.widget, 5)])
        cls._validate(old_widget, days_ago=10)
        old_bolt = cls._transfer(cls.north.out_type_id, cls.shelf, cls.customer_location, [(cls.bolt, 50)])
        cls._validate(old_bolt, days_ago=60)
        cls._validate(cls._receipt(cls.north, [(cls.gadget, 8)], cls.boltco))
        gadget_move = cls._transfer(cls.north.int_type_id, nor, cls.shelf, [(cls.gadget, 3)])
        cls._validate(gadget_move)

        # Open transfers.
        cls.delivery = cls._transfer(cls.north.out_type_id, nor, cls.customer_location, [(cls.widget, 15)])
        cls.delivery.action_assign()
        cls.late_receipt = cls._receipt(
            cls.north,
            [(cls.widget, 50), (cls.bolt, 100)],
            cls.acme,
            origin="PO-ACME-7",
            scheduled_date=cls.now - timedelta(days=3),
        )
        cls.future_receipt = cls._receipt(
            cls.south,
            [(cls.gadget, 12), (cls.bolt, 500, cls.uom_gram)],
            cls.boltco,
            origin="PO-BOLT-2",
            scheduled_date=cls.now + timedelta(days=5),
        )
        cls._receipt(cls.south, [(cls.gadget, 1)], cls.acme).action_cancel()
        cls.beta_receipt = cls._receipt(cls.beta, [(cls.widget, 7)], cls.acme)

        Orderpoint = env["stock.warehouse.orderpoint"]
        cls.op_widget, cls.op_gadget, cls.op_bolt = Orderpoint.create(
            [
                {
                    "product_id": cls.widget.id,
                    "location_id": nor.id,
                    "product_min_qty": 150,
                    "product_max_qty": 200,
                    "trigger": "manual",
                },
                {
                    "product_id": cls.gadget.id,
                    "location_id": nor.id,
                    "product_min_qty": 5,
                    "product_max_qty": 10,
                    "trigger": "manual",
                },
                {
                    "product_id": cls.bolt.id,
                    "location_id": sou.id,
                    "product_min_qty": 10,
                    "product_max_qty": 40,
                    "trigger": "manual",
                },
            ]
        )
        cls.op_beta = Orderpoint.with_company(cls.company_b).create(
            {
                "product_id": cls.widget.id,
                "location_id": bet.id,
                "company_id": cls.company_b.id,
                "product_min_qty": 1100,
                "product_max_qty": 1200,
                "trigger": "manual",
            }
        )

        stock_groups = "base.group_user,stock.group_stock_user,ai_core.group_aia_user"
        cls.keeper = cls.new_user("wh_keeper", stock_groups, cls.company_a)
        cls.keeper_b = cls.new_user("wh_keeper_b", stock_groups, cls.company_b)
        cls.keeper_ab = cls.new_user("wh_keeper_ab", stock_groups, cls.company_a | cls.company_b)
        cls.agent = env.ref("ai_agents_warehouse.agent_warehouse")
        cls.tool_user = cls.keeper

    @classmethod
    def _transfer(cls, picking_type, source, destination, lines, partner=None, **values):
        """A confirmed transfer with one move per (product, quantity[, uom]) line."""
        picking = (
            cls.env["stock.picking"]
            .with_company(picking_type.company_id)
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "partner_id": partner and partner.id,
                    **values,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": quantity,
                                "product_uom": (uom[0] if uom else product.uom_id).id,
                                "location_id": source.id,
                                "location_dest_id": destination.id,
                            }
                        )
                        for product, quantity, *uom in lines
                    ],
                }
            )
        )
        picking.action_confirm()
        return picking

    @classmethod
    def _receipt(cls, warehouse, lines, partner, **values):
        """A confirmed receipt from ``partner`` into ``warehouse``'s stock (``lines`` as
        :meth:`_transfer` takes them)."""
        stock = warehouse.lot_stock_id
        return cls._transfer(
            warehouse.in_type_id, cls.supplier_location, stock, lines, partner=partner, **values
        )

    @classmethod
    def _validate(cls, picking, days_ago=0):
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        assert picking.state == "done", picking.state
        if days_ago:
            date = cls.now - timedelta(days=days_ago)
            picking.move_ids.write({"date": date})
            picking.move_ids.move_line_ids.write({"date": date})
            picking.date_done = date
