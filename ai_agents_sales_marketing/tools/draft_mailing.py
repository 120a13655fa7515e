"""Draft a mailing to a segment, for a person to review and send from Email Marketing.

The tool only creates a ``mailing.mailing`` in draft: it never schedules, queues, tests or sends
one (there is no argument for it, and no call to the mailing's actions). The segment is never a
domain written by the model: it is a mailing list, or the session company's contacts or leads
narrowed by a few named filters, each resolved to a record the user may read; the tool writes the
domain from those ids. The body is plain text, escaped and turned into HTML by Odoo's
``plaintext2html`` (links made clickable), then sanitized by the mailing's HTML fields.
"""

from odoo import Command
from odoo.fields import Domain
from odoo.tools import plaintext2html

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

from . import common

NAME = "marketing.draft_mailing"
MAX_SUBJECT = 200
MAX_BODY = 20000

# Email Marketing's user rights: whoever else asks is refused before anything is read.
MAILING_USER = Requires(groups=("mass_mailing.group_mass_mailing_user",))

# Segment -> (recipients model, the filters it takes, the field of the email).
SEGMENTS = {
    "mailing_list": ("mailing.list", ("mailing_list",), None),
    "contacts": ("res.partner", ("country", "tag", "companies_only"), "email"),
    "leads": ("crm.lead", ("team", "stage", "salesperson", "lead_type"), "email_from"),
}
ALL_FILTERS = sorted({name for _model, names, _email in SEGMENTS.values() for name in names})

MAILING_LIST_REF = RecordRef("mailing.list", "mailing list", list_known=True)
COUNTRY_REF = RecordRef("res.country", "country", exact=("code", "name"))
PARTNER_TAG_REF = RecordRef("res.partner.category", "contact tag", list_known=True)
# Filters of the leads segment: (argument, reference, field).
LEAD_FILTERS = (
    ("team", common.TEAM_REF, "team_id"),
    ("stage", common.STAGE_REF, "stage_id"),
    ("salesperson", common.SALESPERSON_REF, "user_id"),
)
# Mailing fields are rendered when sent (subject as an inline template): no placeholders.
PLACEHOLDERS = ("{{", "}}", "{%", "%}", "${")


def _text(args, key):
    text = args[key].strip()
    if not text:
        raise ToolInputError(f"empty {key}")
    if any(mark in text for mark in PLACEHOLDERS):
        raise ToolInputError(f"the {key} may not contain placeholders ({', '.join(PLACEHOLDERS)})")
    return text


def plan(env, args):
    """(create values of the mailing, description of the segment) of the call; nothing written.

    Raises:
        ToolInputError: A filter of another segment, a missing list, an unknown record, empty or
            templated text.
    """
    segment = args["segment"]
    model, allowed, email_field = SEGMENTS[segment]
    stray = [name for name in ALL_FILTERS if args.get(name) is not None and name not in allowed]
    if stray:
        raise ToolInputError(
            f"{', '.join(stray)} cannot narrow the segment {segment}; it takes: {', '.join(allowed)}"
        )
    subject, body = _text(args, "subject"), _text(args, "body")
    html = plaintext2html(body)
    values = {
        "subject": subject,
        "body_arch": html,
        "body_html": html,
        "mailing_type": "mail",
        "state": "draft",
        "mailing_model_id": env["ir.model"]._get_id(model),
    }
    described = []
    if segment == "mailing_list":
        if args.get("mailing_list") is None:
            raise ToolInputError("give the mailing_list of the segment mailing_list")
        mailing_list = MAILING_LIST_REF.resolve(env, args["mailing_list"])
        values["contact_list_ids"] = [Command.set(mailing_list.ids)]
        described.append(f"mailing list {mailing_list.name}")
        return values, described
    # The session's company (and what is shared between companies), reachable by email: the
    # domain is made of ids resolved here, never of text the model wrote.
    domain = common.company_or_shared(env) & Domain(email_field, "!=", False)
    described.append(f"of {env.company.name} or shared, with an email")
    if segment == "contacts":
        if args.get("country") is not None:
            country = COUNTRY_REF.resolve(env, args["country"])
            domain &= Domain("country_id", "=", country.id)
            described.append(f"country {country.name}")
        if args.get("tag") is not None:
            tag = PARTNER_TAG_REF.resolve(env, args["tag"])
            domain &= Domain("category_id", "in", tag.ids)
            described.append(f"tag {tag.name}")
        if args.get("companies_only") is not None:
            domain &= Domain("is_company", "=", bool(args["companies_only"]))
            described.append("companies only" if args["companies_only"] else "individuals only")
    else:
        for key, ref, fname in LEAD_FILTERS:
            if args.get(key) is not None:
                record = ref.resolve(env, args[key])
                domain &= Domain(fname, "=", record.id)
                described.append(f"{key} {record.display_name}")
        if args.get("lead_type") is not None:
            domain &= Domain("type", "=", args["lead_type"])
            described.append(f"{args['lead_type']}s only")
    values["mailing_domain"] = repr(list(domain))
    return values, described


def describe(mailing, described):
    return {
        "subject": mailing.subject,
        "state": mailing.state,
        "recipients_model": mailing.mailing_model_id.name,
        "segment": described,
        # Odoo's own count of the mailing's recipients (mailing.mailing.total).
        "recipients": mailing.total,
    }


def preview(ctx, args):
    """The recipients (model, segment, Odoo's count for it) and the subject; nothing written."""
    env = ctx.env
    MAILING_USER.check(env, NAME)
    values, described = plan(env, args)
    draft = describe(env["mailing.mailing"].new(values), described)
    return (
        f"Create a draft mailing (not sent) in {env.company.name}: subject {draft['subject']!r}; "
        f"recipients {draft['recipients_model']} ({'; '.join(described)}): {draft['recipients']} "
        "recipient(s) as Odoo counts them now."
    )


@tool(
    NAME,
    display_name="DraftMailing",
    description="Draft an email marketing mailing for the user to review and send from Email Marketing: "
    "it creates the mailing in draft and never schedules or sends it. The segment is one of: "
    "mailing_list (give mailing_list), contacts (the company's contacts with an email; optional "
    "country, tag, companies_only) or leads (the company's leads and opportunities with an email; "
    "optional team, stage, salesperson, lead_type). The body is plain text (paragraphs separated by "
    "blank lines; links become clickable); no HTML, no placeholders. Returns the mailing (id, subject, "
    "recipients model, segment, Odoo's count of recipients, state draft).",
    input_schema=toolkit.object_schema(
        {
            "segment": {"enum": list(SEGMENTS), "description": "Who receives it."},
            "subject": {"type": "string", "minLength": 1, "maxLength": MAX_SUBJECT},
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY, "description": "Plain text."},
            "mailing_list": common.ref("Mailing list: id or name (segment mailing_list)."),
            "country": common.ref("Contacts of this country: id, code or name (segment contacts)."),
            "tag": common.ref("Contacts with this tag: id or name (segment contacts)."),
            "companies_only": {
                "type": "boolean",
                "description": "true: companies only; false: individuals only (segment contacts).",
            },
            "team": common.ref("Leads of this sales team: id or name (segment leads)."),
            "stage": common.ref("Leads in this stage: id or name (segment leads)."),
            "salesperson": common.ref("Leads of this salesperson: user id, login or name (segment leads)."),
            "lead_type": {
                "enum": ["lead", "opportunity"],
                "description": "Segment leads: leads or opportunities.",
            },
        },
        required=("segment", "subject", "body"),
    ),
    requires=MAILING_USER,
    mode="write",
    preview=preview,
)
def draft_mailing(ctx, args):
    env = ctx.env
    values, described = plan(env, args)
    mailing = env["mailing.mailing"].create(values)
    return {"id": mailing.id, "company": env.company.name, **describe(mailing, described)}
