import json

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import unwrap_tool_result

from .. import write_tools
from .common import SalesMarketingCase

SALES_TOOLS = {
    "sales.get_pipeline_value": "GetPipelineValue",
    "sales.get_deal_velocity": "GetDealVelocity",
    "sales.get_top_customers": "GetTopCustomers",
    "sales.get_upsell_opportunities": "GetUpsellOpportunities",
    "sales.get_quotations_pipeline": "GetQuotationsPipeline",
    "sales.get_invoicing_status": "GetInvoicingStatus",
    "sales.get_sales_by_product": "GetSalesByProduct",
    "sales.get_revenue_by_campaign": "GetRevenueByCampaign",
    "sales.get_lost_reasons": "GetLostReasons",
    "sales.get_overdue_activities": "GetOverdueActivities",
    "sales.create_quotation": "CreateQuotation",
    "sales.schedule_followup": "ScheduleFollowup",
    "sales.mark_lead_lost": "MarkLeadLost",
}
SALES_WRITES = ("sales.create_quotation", "sales.schedule_followup", "sales.mark_lead_lost")
MARKETING_TOOLS = {
    "marketing.get_pipeline_overview": "GetPipelineOverview",
    "marketing.get_lead_scoring": "GetLeadScoring",
    "marketing.get_campaign_metrics": "GetCampaignMetrics",
    "marketing.get_conversion_rates": "GetConversionRates",
    "marketing.draft_mailing": "DraftMailing",
}
MARKETING_WRITES = ("marketing.draft_mailing",)


@tagged("post_install", "-at_install")
class TestSalesMarketingAgents(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()

    def crm(self, user):
        """crm.lead as ``user`` sees it in company A, to read Odoo's own figures."""
        return self.env(user=user, context=dict(self.env.context, allowed_company_ids=self.company_a.ids))[
            "crm.lead"
        ]

    def test_two_agents_in_shadow_mode_with_their_read_and_write_tools(self):
        for agent, tools, writes, code in (
            (self.agent_sales, SALES_TOOLS, SALES_WRITES, "sales"),
            (self.agent_marketing, MARKETING_TOOLS, MARKETING_WRITES, "marketing"),
        ):
            with self.subTest(agent=code):
                self.assertEqual(agent.code, code)
                self.assertShipsInShadowMode(agent, tools, writes)

    def test_the_agents_are_told_when_to_use_their_write_tools(self):
        for agent, prompt, rule in (
            (self.agent_sales, write_tools.SALES_PROMPT, write_tools.SALES_RULE),
            (self.agent_marketing, write_tools.MARKETING_PROMPT, write_tools.MARKETING_RULE),
        ):
            agent = agent.sudo()
            self.assertIn(prompt, agent.system_prompt)
            self.assertIn(rule, agent.rules)
            self.assertIn("present the preview as your proposal", agent.system_prompt)
        self.assertIn("never confirm or send a quotation", self.agent_sales.sudo().rules)
        self.assertIn("you only draft them", self.agent_marketing.sudo().rules)

    def test_an_existing_database_gets_the_write_tools_once(self):
        """The migration to 19.0.1.2.0: agents as the previous version shipped them get the write
        tools and the paragraphs; run again, nothing is said twice."""
        for agent, prompt, rule in (
            (self.agent_sales, write_tools.SALES_PROMPT, write_tools.SALES_RULE),
            (self.agent_marketing, write_tools.MARKETING_PROMPT, write_tools.MARKETING_RULE),
        ):
            agent = agent.sudo()
            agent.write(
                {
                    "system_prompt": agent.system_prompt.replace(prompt, "").rstrip(),
                    "rules": agent.rules.replace(rule, "").rstrip(),
                    "tool_ids": [Command.set(agent.tool_ids.filtered(lambda tool: tool.mode == "read").ids)],
                }
            )
        write_tools.give_write_tools(self.env)
        prompts = [
            (agent.system_prompt, agent.rules) for agent in (self.agent_sales | self.agent_marketing).sudo()
        ]
        write_tools.give_write_tools(self.env)
        self.assertEqual(
            [
                (agent.system_prompt, agent.rules)
                for agent in (self.agent_sales | self.agent_marketing).sudo()
            ],
            prompts,
        )
        self.test_the_agents_are_told_when_to_use_their_write_tools()
        self.test_two_agents_in_shadow_mode_with_their_read_and_write_tools()

    def test_sales_agent_end_to_end_the_answer_carries_the_weighted_pipeline(self):
        model, session = self.run_turn(
            "What is our pipeline worth?",
            ("sales_get_pipeline_value", {}),
            "The open pipeline is worth 45,000.00 USD, 13,000.00 USD weighted by probability.",
        )
        execution = self.assertAnswered(
            model,
            session,
            SALES_TOOLS,
            "sales.get_pipeline_value",
            "sales assistant",
            "Weighted revenue is a forecast",
        )

        # The figures are Odoo's own: its CRM grouped by stage, as the manager sees company A's open
        # opportunities (neither won nor lost), with Odoo's prorated revenue as the weighted one.
        leads = self.crm(self.manager)
        open_opportunities = [("type", "=", "opportunity"), ("won_status", "=", "pending")]
        [(count, expected, weighted)] = leads._read_group(
            open_opportunities, [], ["__count", "expected_revenue:sum", "prorated_revenue:sum"]
        )
        self.assertEqual((count, expected, weighted), (5, 45000.0, 13000.0), "the pipeline of the class doc")
        output = execution.output
        self.assertEqual((output["company"], output["currency"]), (self.company_a.name, self.usd.name))
        self.assertEqual(
            output["totals"],
            {
                "opportunities": count,
                "expected_revenue": expected,
                "weighted_revenue": weighted,
                "weighted_pct_of_expected": round(100 * weighted / expected, 1),
            },
        )
        by_stage = leads._read_group(
            open_opportunities, ["stage_id"], ["__count", "expected_revenue:sum", "prorated_revenue:sum"]
        )
        self.assertEqual(
            {
                row["stage"]: (row["opportunities"], row["expected_revenue"], row["weighted_revenue"])
                for row in output["by_stage"]
            },
            {
                stage.display_name: (n, stage_expected, stage_weighted)
                for stage, n, stage_expected, stage_weighted in by_stage
            },
        )
        self.assertPersisted(session, model, execution)
        self.assertIn("13,000.00 USD", session.last_text)

    def test_sales_agent_end_to_end_the_lost_reasons_are_odoos(self):
        reason = self.env.ref("crm.lost_reason_1")
        self.p7.lost_reason_id = reason
        model, session = self.run_turn(
            "Why did we lose deals lately?",
            ("sales_get_lost_reasons", {}),
            f"One deal lost in the last 90 days, 4,000.00 USD: {reason.name}.",
        )
        execution = self.assertAnswered(
            model,
            session,
            SALES_TOOLS,
            "sales.get_lost_reasons",
            "Lost reasons (sales_get_lost_reasons)",
            "Lead with the main reason and its share",
        )
        # Odoo's CRM grouped by lost reason, as the manager sees company A's lost leads.
        leads = self.crm(self.manager).with_context(active_test=False)
        groups = leads._read_group(
            [("won_status", "=", "lost")], ["lost_reason_id"], ["__count", "expected_revenue:sum"]
        )
        self.assertEqual(
            [(row["reason"], row["lost"], row["expected_revenue"]) for row in execution.output["by_reason"]],
            [(group_reason.name, count, expected) for group_reason, count, expected in groups],
        )
        self.assertEqual(execution.output["by_reason"][0]["expected_revenue"], 4000.0, "P7 of the class doc")
        self.assertPersisted(session, model, execution)
        self.assertIn(reason.name, session.last_text)

    def test_marketing_agent_end_to_end_the_answer_carries_the_counts(self):
        model, session = self.run_turn(
            "Where do we stand with leads?",
            ("marketing_get_pipeline_overview", {}),
            "1 open lead and 5 open opportunities (45,000.00 USD); 1 won, 1 lost.",
            user=self.marketer,
            agent=self.agent_marketing,
        )
        execution = self.assertAnswered(
            model, session, MARKETING_TOOLS, "marketing.get_pipeline_overview", "marketing assistant"
        )

        # The counts are Odoo's own, as the marketer sees them: open leads and opportunities by
        # type, and Odoo's Won / Lost status (lost leads are archived).
        leads = self.crm(self.marketer)
        open_by_type = {
            lead_type: (count, expected)
            for lead_type, count, expected in leads._read_group(
                [("won_status", "=", "pending")], ["type"], ["__count", "expected_revenue:sum"]
            )
        }
        closed = dict(
            leads.with_context(active_test=False)._read_group(
                [("won_status", "in", ["won", "lost"])], ["won_status"], ["__count"]
            )
        )
        self.assertEqual(
            (open_by_type, closed),
            ({"lead": (1, 3000.0), "opportunity": (5, 45000.0)}, {"won": 1, "lost": 1}),
            "the pipeline of the class doc",
        )
        self.assertEqual(
            execution.output["totals"],
            {
                "leads": open_by_type["lead"][0],
                "opportunities": open_by_type["opportunity"][0],
                "expected_revenue": open_by_type["opportunity"][1],
                "won": closed["won"],
                "lost": closed["lost"],
            },
        )
        self.assertPersisted(session, model, execution)
        self.assertIn("5 open opportunities", session.last_text)

    def test_a_company_b_session_never_sees_company_a_pipeline(self):
        model, session = self.run_turn(
            "Pipeline?", ("sales_get_pipeline_value", {}), "99,000.00 USD", company_id=self.company_b.id
        )
        content = json.loads(unwrap_tool_result(self.told(model).content))
        self.assertEqual((content["company"], content["totals"]["expected_revenue"]), ("Company B", 99000.0))
        self.assertNotIn("45000", self.told(model).content)

    def test_a_user_without_crm_rights_gets_a_denied_result(self):
        for agent, tool in (
            (self.agent_sales, "sales_get_pipeline_value"),
            (self.agent_marketing, "marketing_get_lead_scoring"),
        ):
            with self.subTest(tool=tool):
                _execution, told = self.assertDeniedTurn(
                    "Pipeline?", (tool, {}), "You need CRM access for that.", agent=agent
                )
                self.assertNotIn("45000", told.content)

    def test_bad_input_comes_back_to_the_model_as_an_error_result(self):
        model, session = self.run_turn(
            "Pipeline in negotiation?",
            ("sales_get_pipeline_value", {"stage": "Negotiation"}),
            "There is no Negotiation stage; the stages are New, Qualified, Proposition and Won.",
        )
        _execution, told = self.assertToolFailed(model, session, "error")
        self.assertIn(
            "unknown stage 'Negotiation'; known: New, Qualified, Proposition, Won",
            unwrap_tool_result(told.content),
        )
