import datetime as dt

from odoo import Command
from odoo.tools import SQL

from odoo.addons.ai_core.ai_engine.testing import ScriptedModel, reply, tool_calls
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.ai_core.tests.pack_case import AgentPackCase
from odoo.addons.ai_core.tests.test_recovery import WorkerKilled, _DyingModel
from odoo.addons.queue_job.tests.common import trap_jobs


class SalesMarketingCase(AgentPackCase):
    """Two companies (A: ``cls.company``, B: ``cls.company_b``, both in USD), CRM stages, two sales
    teams in A and one in B, the people below, and builders of the business data each test class
    needs (``_build_*``), so that each class's figures follow from its own data only.

    People (all AI users, time zone UTC):

    ============  ================================================  ===================
    login         rights                                            companies
    ============  ================================================  ===================
    sm_manager    Sales / Administrator (all leads and orders)      A (default) and B
    sm_alice      Sales / User: own documents only                  A
    sm_bob        Sales / User: own documents only                  A
    sm_marketer   Sales / User: all documents, Email Marketing      A
    aia_user      (ai_core's) internal user without Sales or CRM    A
    ============  ================================================  ===================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.usd = cls.company_a.currency_id
        cls.stage_new = env.ref("crm.stage_lead1")
        cls.stage_qualified = env.ref("crm.stage_lead2")
        cls.stage_proposition = env.ref("crm.stage_lead3")
        cls.stage_won = env.ref("crm.stage_lead4")
        both = cls.company_a + cls.company_b

        def user(login, name, groups, companies):
            return cls.new_user(login, f"{groups},ai_core.group_aia_user", companies, name=name, tz="UTC")

        cls.manager = user("sm_manager", "Mia Manager", "sales_team.group_sale_manager", both)
        cls.alice = user("sm_alice", "Alice Seller", "sales_team.group_sale_salesman", cls.company_a)
        cls.bob = user("sm_bob", "Bob Seller", "sales_team.group_sale_salesman", cls.company_a)
        cls.marketer = user(
            "sm_marketer",
            "Max Marketer",
            "sales_team.group_sale_salesman_all_leads,mass_mailing.group_mass_mailing_user",
            cls.company_a,
        )
        cls.user.tz = "UTC"
        Team = env["crm.team"]
        sellers = [Command.set((cls.alice + cls.bob).ids)]
        cls.direct = Team.create({"name": "Direct", "company_id": cls.company_a.id, "member_ids": sellers})
        cls.partners_team = Team.create(
            {"name": "Partners", "company_id": cls.company_a.id, "member_ids": sellers, "sequence": 20}
        )
        cls.team_b = Team.create({"name": "Team B", "company_id": cls.company_b.id})

        Partner = env["res.partner"]
        cls.acme = Partner.create({"name": "Acme Corp", "is_company": True})
        cls.john = Partner.create(
            {
                "name": "John Buyer",
                "parent_id": cls.acme.id,
                "email": "john@acme.example",
                "phone": "+32 2 555 01",
            }
        )
        cls.beta = Partner.create({"name": "Beta Ltd", "is_company": True})
        cls.gamma = Partner.create({"name": "Gamma LLC", "is_company": True})
        cls.delta = Partner.create({"name": "Delta Inc", "is_company": True})

        cls.agent_sales = env.ref("ai_agents_sales_marketing.agent_sales")
        cls.agent_marketing = env.ref("ai_agents_sales_marketing.agent_marketing")
        cls.agent = cls.agent_sales  # the agent of run_turn() unless told otherwise
        cls.tool_user = cls.manager

    # === HELPERS === #

    @classmethod
    def sql_write(cls, records, **columns):
        """Write values Odoo computes or sets itself (create_date, date_closed, the predictive
        probability...) straight in the table, as history would have left them."""
        records.flush_recordset()
        assignments = SQL(", ").join(
            SQL("%s = %s", SQL.identifier(column), value) for column, value in columns.items()
        )
        cls.env.cr.execute(
            SQL(
                "UPDATE %s SET %s WHERE id IN %s",
                SQL.identifier(records._table),
                assignments,
                tuple(records.ids),
            )
        )
        records.invalidate_recordset()

    @classmethod
    def flush_tracking(cls):
        """Write the pending chatter tracking now (Odoo does it when the transaction commits)."""
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    # === BUILDERS === #

    @classmethod
    def lead(cls, name, team, user=None, **values):
        """An opportunity (``type="lead"``: a lead) of ``team``, in the team's company, assigned to
        ``user`` (None: nobody); ``values`` are its further fields."""
        values.setdefault("type", "opportunity")
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "team_id": team.id,
                "company_id": team.company_id.id,
                "user_id": user.id if user else False,
                **values,
            }
        )

    @classmethod
    def utm(cls, kind, *names):
        """New UTM records of ``kind`` ("source", "medium" or "campaign") named ``names``."""
        return cls.env[f"utm.{kind}"].create([{"name": name} for name in names])

    @classmethod
    def _build_pipeline(cls):
        """Company A's opportunities (probabilities set by hand, weighted = expected x probability):

        ====  ========  =====  ===========  ========  ====  ========
        name  team      user   stage        expected  prob  weighted
        ====  ========  =====  ===========  ========  ====  ========
        P1    Direct    alice  New          10 000    10    1 000
        P2    Direct    alice  Qualified    20 000    30    6 000
        P3    Direct    bob    Proposition   5 000    60    3 000
        P4    Partners  bob    Qualified     8 000    25    2 000
        P5    Partners  -      New           2 000    50    1 000
        ====  ========  =====  ===========  ========  ====  ========

        Not in the open pipeline: P6 won (Direct, alice, 7 000), P7 lost (Partners, bob, 4 000),
        a lead (Direct, alice, 3 000), and company B's opportunity of 99 000.
        """

        def opportunity(name, team, user, stage, expected, probability, **values):
            return cls.lead(
                name,
                team,
                user,
                stage_id=stage.id,
                expected_revenue=expected,
                probability=probability,
                **values,
            )

        cls.p1 = opportunity("P1", cls.direct, cls.alice, cls.stage_new, 10000, 10)
        cls.p2 = opportunity("P2", cls.direct, cls.alice, cls.stage_qualified, 20000, 30)
        cls.p3 = opportunity("P3", cls.direct, cls.bob, cls.stage_proposition, 5000, 60)
        cls.p4 = opportunity("P4", cls.partners_team, cls.bob, cls.stage_qualified, 8000, 25)
        cls.p5 = opportunity("P5", cls.partners_team, None, cls.stage_new, 2000, 50)
        cls.p6 = opportunity("P6", cls.direct, cls.alice, cls.stage_new, 7000, 40)
        cls.p6.action_set_won()
        cls.p7 = opportunity("P7", cls.partners_team, cls.bob, cls.stage_qualified, 4000, 20)
        cls.p7.action_set_lost()
        cls.pipeline_lead = opportunity("L", cls.direct, cls.alice, cls.stage_new, 3000, 10, type="lead")
        cls.p_b = cls.lead("PB", cls.team_b, cls.manager, expected_revenue=99000, probability=50)

    @classmethod
    def _draft_order(cls, partner, lines, company=None, **values):
        """A draft sale order of ``partner`` in ``company`` (default: A), one line per (product,
        quantity, unit price) of ``lines``."""
        company = company or cls.company_a
        return (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": p.id, "product_uom_qty": qty, "price_unit": price})
                        for p, qty, price in lines
                    ],
                    **values,
                }
            )
        )

    @classmethod
    def _build_orders(cls):
        """Confirmed sales orders of company A (untaxed amounts; EUR is worth 1.25 USD, rate 0.8):

        ==========  ===========  =================================================  ==========
        date        customer     lines                                              USD
        ==========  ===========  =================================================  ==========
        2025-03-05  Delta        Mouse 100                                          100
        2025-03-10  Gamma        Screen 5 x 400                                     2 000
        2025-03-15  Acme         Dock 1 000                                         1 000
        2025-03-20  Delta        Mouse 100                                          100
        2025-04-05  Beta (EUR)   Laptop 900 EUR, Mouse 100 EUR, Kit 0               1 250
        2025-04-10  John (Acme)  Laptop 600, Mouse 200, Bag 200, Kit 0              1 000
        2025-04-15  Gamma        Laptop 800                                         800
        2025-04-20  Acme         Bag 500                                            500
        ==========  ===========  =================================================  ==========

        Not confirmed revenue: Delta's quotation of 5 000 and Gamma's cancelled order of 3 000 in
        April; company B's order of 9 000 for Acme in April. Kit is not saleable (any more).
        """
        env = cls.env
        cls.eur = env.ref("base.EUR")
        cls.eur.active = True
        env["res.currency.rate"].create(
            {"name": "2025-01-01", "rate": 0.8, "currency_id": cls.eur.id, "company_id": cls.company_a.id}
        )
        cls.eur_pricelist = env["product.pricelist"].create(
            {"name": "EUR prices", "currency_id": cls.eur.id, "company_id": cls.company_a.id}
        )

        def product(name):
            return env["product.product"].create({"name": name, "type": "consu", "list_price": 1.0})

        cls.laptop, cls.mouse, cls.bag = product("Laptop"), product("Mouse"), product("Bag")
        cls.screen, cls.dock, cls.kit = product("Screen"), product("Dock"), product("Kit")

        def order(partner, date, lines, state="sale", company=None, **values):
            record = cls._draft_order(partner, lines, company, **values)
            if state == "sale":
                record.action_confirm()
            elif state == "cancel":
                record.action_cancel()
            record.date_order = date
            return record

        cls.order_d1 = order(cls.delta, "2025-03-05 09:00:00", [(cls.mouse, 1, 100)])
        cls.order_g0 = order(cls.gamma, "2025-03-10 09:00:00", [(cls.screen, 5, 400)])
        cls.order_a0 = order(cls.acme, "2025-03-15 09:00:00", [(cls.dock, 1, 1000)])
        cls.order_d2 = order(cls.delta, "2025-03-20 09:00:00", [(cls.mouse, 1, 100)])
        cls.order_b1 = order(
            cls.beta,
            "2025-04-05 09:00:00",
            [(cls.laptop, 1, 900), (cls.mouse, 1, 100), (cls.kit, 1, 0)],
            pricelist_id=cls.eur_pricelist.id,
        )
        cls.order_a1 = order(
            cls.john,
            "2025-04-10 09:00:00",
            [(cls.laptop, 1, 600), (cls.mouse, 1, 200), (cls.bag, 1, 200), (cls.kit, 1, 0)],
        )
        cls.order_g1 = order(cls.gamma, "2025-04-15 09:00:00", [(cls.laptop, 1, 800)])
        cls.order_a2 = order(cls.acme, "2025-04-20 09:00:00", [(cls.bag, 1, 500)])
        cls.quotation = order(cls.delta, "2025-04-12 09:00:00", [(cls.laptop, 5, 1000)], state="draft")
        cls.cancelled = order(cls.gamma, "2025-04-18 09:00:00", [(cls.screen, 1, 3000)], state="cancel")
        cls.order_b = order(cls.acme, "2025-04-11 09:00:00", [(cls.laptop, 9, 1000)], company=cls.company_b)
        cls.kit.sale_ok = False

    @classmethod
    def at(cls, days_ago):
        """A datetime ``days_ago`` days before the transaction's now (the tools' now)."""
        return cls.env.cr.now() - dt.timedelta(days=days_ago)

    # === ODOO'S OWN FIGURES === #

    def user_env(self, user, company=None):
        """The environment of ``user`` working in ``company`` (default: theirs), to read what Odoo
        itself shows them."""
        company = company or user.company_id
        return self.env(user=user, context=dict(self.env.context, allowed_company_ids=company.ids))

    def sales_report(self, user, domain, groupby, aggregates, company=None):
        """Odoo's sales analysis (``sale.report``, the pivot's grouped read) as ``user`` sees it in
        ``company``: {group key (the groupby's values, or one value): aggregates}."""
        groups = self.user_env(user, company)["sale.report"]._read_group(domain, groupby, aggregates)
        figures = {}
        for group in groups:
            key = group[: len(groupby)]
            values = group[len(groupby) :]
            figures[key[0] if len(key) == 1 else key] = values[0] if len(values) == 1 else tuple(values)
        return figures

    @classmethod
    def quotations_and_orders(cls):
        """The orders of _build_orders, and company A's open quotations around today:

        =====  ======  ========  ===============  ==========================  ==============
        name   status  customer  expiration       lines                       USD untaxed
        =====  ======  ========  ===============  ==========================  ==============
        Q1     draft   Beta      today + 3        Laptop 2 x 400 EUR           1 000
        Q2     sent    Gamma     today + 30       Screen 3 x 100               300
        Q3     draft   Acme      today - 5        Dock 1 x 700                 700
        Q4     sent    Delta     none             Mouse 4 x 50                 200
        Q5     draft   Delta     today (-> 7)     Laptop 5 x 1 000             5 000 (_build_orders)
        =====  ======  ========  ===============  ==========================  ==============

        and company B's quotation (Kestrel-free: it is data of another company) expiring in 2 days.
        """
        cls._build_orders()
        today = dt.date.today()

        def quotation(partner, lines, validity, state="draft", company=None, **values):
            record = cls._draft_order(partner, lines, company, **values)
            record.validity_date = validity
            if state == "sent":
                record.action_quotation_sent()
            return record

        days = dt.timedelta
        cls.q1 = quotation(
            cls.beta, [(cls.laptop, 2, 400)], today + days(3), pricelist_id=cls.eur_pricelist.id
        )
        cls.q2 = quotation(cls.gamma, [(cls.screen, 3, 100)], today + days(30), state="sent")
        cls.q3 = quotation(cls.acme, [(cls.dock, 1, 700)], today - days(5))
        cls.q4 = quotation(cls.delta, [(cls.mouse, 4, 50)], False, state="sent")
        cls.quotation.validity_date = today
        cls.q_b = quotation(cls.acme, [(cls.laptop, 1, 8000)], today + days(2), company=cls.company_b)


class SalesWriteCase(SalesMarketingCase):
    """The sales and marketing case, and the three ways a company lets its agents write: shadow
    mode (as they ship), every write waiting for the operator's approval, or trusted."""

    def run_twice(self, question, call, user=None, agent=None):
        """A trusted turn whose worker dies right after ``call`` ran (at the next model request),
        then run again by queue_job: the call's id in the session is its idempotency key. Returns
        the session."""
        model = ScriptedModel([tool_calls(call), reply("Done once.")])
        dying = _DyingModel(model, die_at=1)
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: dying)
        session = self.new_session(user=user or self.tool_user, agent=agent)
        with trap_jobs() as trap:
            session.post_message(question)
            jobs = list(trap.enqueued_jobs)
            died = False
            try:
                perform_jobs(self, trap)
            except WorkerKilled:
                died = True
            self.assertTrue(died, "the worker did not die")
            self.env.invalidate_all()
            trap.enqueued_jobs = jobs
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Done once."))
        model.assert_complete()
        return session
