from odoo.tests import HttpCase, tagged

from .common import BillingCase

# Waits for each selector in turn, then signals success; a missing one fails the test.
WAIT_FOR = """
(async () => {
    for (const selector of %s) {
        let element = null;
        for (let attempt = 0; attempt < 150 && !element; attempt++) {
            element = document.querySelector(selector);
            if (!element) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
        }
        if (!element) {
            throw new Error(`Not shown: ${selector}`);
        }
    }
    console.log("test successful");
})().catch((error) => console.error(error.message));
"""


@tagged("post_install", "-at_install")
class TestBillingViews(BillingCase, HttpCase):
    def open(self, path, *selectors):
        self.browser_js(path, WAIT_FOR % list(selectors), login="admin", timeout=60)

    def test_statement_budget_and_analysis_views_open(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        budget = self.env["aia.billing.budget"].create({"company_id": self.company.id, "amount": 50})
        self.open(
            f"/odoo/action-ai_billing.aia_billing_statement_action/{statement.id}",
            ".o_form_view .o_field_widget[name=line_ids] .o_data_row",
            ".o_form_view button[name=action_confirm]",
        )
        self.open(
            f"/odoo/action-ai_billing.aia_billing_budget_action/{budget.id}",
            ".o_form_view .o_field_widget[name=used_percent] .o_progressbar",
        )
        self.open("/odoo/action-ai_billing.aia_billing_usage_report_action", ".o_pivot_view .o_pivot")
        self.open("/odoo/action-ai_billing.aia_billing_statement_line_action", ".o_pivot_view .o_pivot")
