from . import (
    account_move,
    aia_billing_budget,
    aia_billing_plan,
    aia_billing_plan_price,
    aia_billing_plan_version,
    aia_billing_statement,
    aia_billing_statement_line,
    aia_billing_usage_report,
    aia_session,
    res_company,
)
