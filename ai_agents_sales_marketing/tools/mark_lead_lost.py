"""Mark a lead or opportunity lost as CRM's "Lost" button does: its wizard (``crm.lead.lost``) with
the lost reason and the closing note, which logs the note in the chatter and calls
``action_set_lost`` (archived, probability 0, the reason set)."""

from odoo.tools import plaintext2html

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

from . import common

NAME = "sales.mark_lead_lost"
MAX_FEEDBACK = 2000

SALESMAN = Requires(groups=("sales_team.group_sale_salesman",))

# Lost leads are archived: found too, to say they are lost already rather than unknown.
LEAD_REF = RecordRef(
    "crm.lead", "lead", domain=common.lead_company_domain, active_test=False, in_company=True
)
LOST_REASON_REF = RecordRef("crm.lost.reason", "lost reason", list_known=True)


def _change(env, args):
    """(lead, reason) of the call, or the input error the model is told."""
    lead = LEAD_REF.resolve(env, args["lead"])
    if lead.won_status != "pending":
        raise ToolInputError(f"{lead.name} is already {lead.won_status}")
    reason = LOST_REASON_REF.resolve(env, args["reason"])
    return lead, reason


def _state(lead):
    return {
        "stage": common.name(lead.stage_id),
        "active": lead.active,
        "probability": lead.probability,
        "won_status": lead.won_status,
        "lost_reason": common.name(lead.lost_reason_id),
    }


def preview(ctx, args):
    """The lead (stage, expected revenue) and the reason; nothing written."""
    env = ctx.env
    SALESMAN.check(env, NAME)
    lead, reason = _change(env, args)
    currency = lead.company_currency or env.company.currency_id
    feedback = f" Closing note: {args['feedback']!r}." if args.get("feedback") else ""
    return (
        f"Mark {lead.type} {lead.name} ({env.company.name}) lost: stage "
        f"{common.name(lead.stage_id, 'none')}, expected revenue "
        f"{common.money(currency, lead.expected_revenue):,.2f} {currency.name}, salesperson "
        f"{common.name(lead.user_id, 'none')}; lost reason {reason.name}.{feedback}"
    )


@tool(
    NAME,
    display_name="MarkLeadLost",
    description="Mark one open lead or opportunity of the session's company as lost, as CRM's 'Lost' "
    "button does: with a lost reason (Odoo's list of lost reasons, by name or id) and an optional "
    "closing note logged in its chatter; Odoo archives it with a probability of 0. Returns the lead "
    "and its state before and after.",
    input_schema=toolkit.object_schema(
        {
            "lead": common.ref("Lead or opportunity: id or name."),
            "reason": common.ref("Lost reason: id or name (e.g. 'Too expensive')."),
            "feedback": {
                "type": "string",
                "maxLength": MAX_FEEDBACK,
                "description": "Closing note, plain text, as the user gave it.",
            },
        },
        required=("lead", "reason"),
    ),
    requires=SALESMAN,
    mode="write",
    preview=preview,
)
def mark_lead_lost(ctx, args):
    env = ctx.env
    lead, reason = _change(env, args)
    before = _state(lead)
    wizard = env["crm.lead.lost"].create(
        {
            "lead_ids": lead.ids,
            "lost_reason_id": reason.id,
            # Plain text, escaped: the note is the user's words, never markup.
            "lost_feedback": plaintext2html(args["feedback"]) if args.get("feedback") else False,
        }
    )
    wizard.action_lost_reason_apply()
    return {
        "lead": {
            "id": lead.id,
            "name": lead.name,
            "type": lead.type,
            "expected_revenue": lead.expected_revenue,
            "salesperson": common.name(lead.user_id),
        },
        "before": before,
        "after": _state(lead),
    }
