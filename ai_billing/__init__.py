from . import models


def uninstall_hook(env):
    """The plans go with the addon and must not keep the "AI usage" product: Odoo then deletes it,
    unless invoices use it, when it is archived instead (accounting keeps what it invoiced)."""
    product = env.ref("ai_billing.product_ai_usage", raise_if_not_found=False)
    if not product:
        return
    # The plan table is dropped with the addon: its link must not hold the product until then.
    env.cr.execute("ALTER TABLE aia_billing_plan DROP CONSTRAINT IF EXISTS aia_billing_plan_product_id_fkey")
    if env["account.move.line"].sudo().search_count([("product_id", "=", product.id)], limit=1):
        product.product_tmpl_id.active = False
