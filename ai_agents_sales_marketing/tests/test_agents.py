import json

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import unwrap_tool_result

from .common import SalesMarketingCase

SALES_TOOLS = {
    "sales.get_pipeline_value": "GetPipelineValue",
    "sales.get_deal_velocity": "GetDealVelocity",
    "sales.get_top_customers": "GetTopCustomers",
    "sales.get_upsell_opportunities": "GetUpsellOpportunities",
}
MARKETING_TOOLS = {
    "marketing.get_pipeline_overview": "GetPipelineOverview",
    "marketing.get_lead_scoring": "GetLeadScoring",
    "marketing.get_campaign_metrics": "GetCampaignMetrics",
    "marketing.get_conversion_rates": "GetConversionRates",
}


@tagged("post_install", "-at_install")
class TestSalesMarketingAgents(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()

    def told(self, model, request=1):
        """The tool result the model read in its ``request``-th request."""
        [result] = model.requests[request].messages[-1].tool_results
        return result

    def crm(self, user):
        """crm.lead as ``user`` sees it in company A, to read Odoo's own figures."""
        return self.env(user=user, context=dict(self.env.context, allowed_company_ids=self.company_a.ids))[
            "crm.lead"
        ]

    def assertPersisted(self, session, model, execution, wire_name):
        """One tool call, kept as the model read it: in the transcript under its call id, in the
        execution, and in the usage ledger with both provider calls."""
        told = self.told(model)
        self.assertFalse(told.is_error)
        self.assertEqual(unwrap_tool_result(told.content), execution.content)
        self.assertEqual(json.loads(execution.content), execution.output)
        messages = session.message_ids_aia.sorted("id")
        self.assertEqual(messages.mapped("role"), ["user", "assistant", "tool", "assistant"])
        [call] = messages[1]._aia_engine_message().tool_uses
        [stored] = messages[2]._aia_engine_message().tool_results
        self.assertEqual((call.id, call.name), (execution.call_id, wire_name))
        self.assertEqual(
            (stored.tool_use_id, stored.content, stored.is_error),
            (execution.call_id, execution.content, False),
        )
        self.assertEqual(session.last_text, messages[3].body)
        ledger = self.env["aia.usage.event"].search([("session_id", "=", session.id)], order="id")
        self.assertEqual(ledger.mapped("kind"), ["provider_call", "tool_call", "provider_call"])
        self.assertEqual(ledger.mapped("total_tokens"), [15, 0, 10 + len(messages[3].body.split())])
        self.assertEqual((ledger[1].tool_name, ledger[1].status), (execution.tool_name, "ok"))
        self.assertEqual(ledger.mapped("user_id"), session.user_id)
        self.assertEqual(session.total_tokens, sum(ledger.mapped("total_tokens")))

    def test_two_agents_in_shadow_mode_with_their_four_read_tools_each(self):
        for agent, tools, code in (
            (self.agent_sales, SALES_TOOLS, "sales"),
            (self.agent_marketing, MARKETING_TOOLS, "marketing"),
        ):
            with self.subTest(agent=code):
                self.assertEqual(agent.code, code)
                self.assertShipsInShadowMode(agent, tools)

    def test_sales_agent_end_to_end_the_answer_carries_the_weighted_pipeline(self):
        model, session = self.run_turn(
            "What is our pipeline worth?",
            ("sales_get_pipeline_value", {}),
            "The open pipeline is worth 45,000.00 USD, 13,000.00 USD weighted by probability.",
            user=self.manager,
            agent=self.agent_sales,
        )
        model.assert_complete()
        self.assertEqual(session.state, "done")
        # The agent has no model of its own: the company's first active model answered.
        self.assertEqual(model.requests[0].model, self.llm.name)
        self.assertIn("sales assistant", model.requests[0].system)
        self.assertIn("Weighted revenue is a forecast", model.requests[0].system)
        self.assertEqual(
            sorted(definition.name for definition in model.requests[0].tools),
            sorted(name.replace(".", "_") for name in SALES_TOOLS),
        )
        [execution] = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("sales.get_pipeline_value", "ok"))

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
        self.assertPersisted(session, model, execution, "sales_get_pipeline_value")
        self.assertIn("13,000.00 USD", session.last_text)

    def test_marketing_agent_end_to_end_the_answer_carries_the_counts(self):
        model, session = self.run_turn(
            "Where do we stand with leads?",
            ("marketing_get_pipeline_overview", {}),
            "1 open lead and 5 open opportunities (45,000.00 USD); 1 won, 1 lost.",
            user=self.marketer,
            agent=self.agent_marketing,
        )
        model.assert_complete()
        self.assertIn("marketing assistant", model.requests[0].system)
        self.assertEqual(
            sorted(definition.name for definition in model.requests[0].tools),
            sorted(name.replace(".", "_") for name in MARKETING_TOOLS),
        )
        [execution] = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("marketing.get_pipeline_overview", "ok"))

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
        self.assertPersisted(session, model, execution, "marketing_get_pipeline_overview")
        self.assertIn("5 open opportunities", session.last_text)

    def test_a_company_b_session_never_sees_company_a_pipeline(self):
        model, session = self.run_turn(
            "Pipeline?",
            ("sales_get_pipeline_value", {}),
            "99,000.00 USD",
            user=self.manager,
            agent=self.agent_sales,
            company_id=self.company_b.id,
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
                model, session = self.run_turn(
                    "Pipeline?", (tool, {}), "You need CRM access for that.", user=self.user, agent=agent
                )
                [execution] = session.execution_ids
                self.assertEqual(execution.status, "denied")
                told = self.told(model)
                self.assertTrue(told.is_error)
                self.assertNotIn("45000", told.content)

    def test_bad_input_comes_back_to_the_model_as_an_error_result(self):
        model, session = self.run_turn(
            "Pipeline in negotiation?",
            ("sales_get_pipeline_value", {"stage": "Negotiation"}),
            "There is no Negotiation stage; the stages are New, Qualified, Proposition and Won.",
            user=self.manager,
            agent=self.agent_sales,
        )
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "error")
        told = self.told(model)
        self.assertTrue(told.is_error)
        self.assertIn(
            "unknown stage 'Negotiation'; known: New, Qualified, Proposition, Won",
            unwrap_tool_result(told.content),
        )
