"""Generic ORM tools: read, aggregate, count, create and write on the models an agent allows.

Every call runs as the session's user through :class:`OdooToolContext`, so access rights and
record rules decide what is visible, and asks :class:`OrmPolicy` first: configuration, security and
secret data stay out of reach whatever the agent's allowlist, and field paths stay inside it.
Results are capped so they fit a model's context.
"""

from ..ai_engine import ToolDenied, ToolInputError
from .catalogue import tool
from .orm_policy import OrmPolicy

MAX_ROWS = 200
DEFAULT_ROWS = 20
MAX_FIELDS = 25
# Binary content and internal columns are never worth the model's context.
SKIPPED_TYPES = {"binary", "image", "properties_definition"}

_MODEL = {"type": "string", "description": "Technical model name, e.g. res.partner."}
_DOMAIN = {
    "type": "array",
    "description": 'Odoo domain, e.g. [["is_company", "=", true]].',
    "default": [],
}


def _policy(ctx):
    return OrmPolicy(ctx.env, ctx.allowed_models)


def _fields(policy, model, names):
    if not names:
        return ["display_name"]
    if len(names) > MAX_FIELDS:
        raise ToolInputError(f"at most {MAX_FIELDS} fields per call")
    policy.fields(model, names)
    skipped = [name for name in names if model._fields[name].type in SKIPPED_TYPES]
    if skipped:
        raise ToolInputError(f"binary fields cannot be read by agents: {', '.join(skipped)}")
    return list(names)


def _limit(value):
    return min(max(int(value or DEFAULT_ROWS), 1), MAX_ROWS)


@tool(
    "orm.search_read",
    display_name="Search records",
    description="Search records of an allowed model and read some of their fields. Returns at most "
    f"{MAX_ROWS} rows, with the total count and a truncation flag.",
    input_schema={
        "type": "object",
        "properties": {
            "model": _MODEL,
            "domain": _DOMAIN,
            "fields": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_FIELDS},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
            "order": {"type": "string", "description": "e.g. 'date desc, id desc'"},
        },
        "required": ["model"],
        "additionalProperties": False,
    },
)
def search_read(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    domain = policy.domain(model, args.get("domain"))
    names = _fields(policy, model, args.get("fields"))
    policy.order(model, args.get("order"))
    limit = _limit(args.get("limit"))
    try:
        records = model.search(domain, limit=limit, order=args.get("order") or None)
    except ValueError as exc:
        raise ToolInputError(str(exc)) from None
    total = model.search_count(domain) if len(records) == limit else len(records)
    return {
        "model": model._name,
        "count": total,
        "records": records.read(names, load=None)
        if names != ["display_name"]
        else [{"id": record.id, "display_name": record.display_name} for record in records],
        "truncated": total > len(records),
    }


@tool(
    "orm.read_group",
    display_name="Aggregate records",
    description="Group records of an allowed model and aggregate fields in the database, e.g. "
    "groupby ['partner_id'] with aggregates ['amount_total:sum'].",
    input_schema={
        "type": "object",
        "properties": {
            "model": _MODEL,
            "domain": _DOMAIN,
            "groupby": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "aggregates": {"type": "array", "items": {"type": "string"}, "default": ["__count"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
            "order": {"type": "string"},
        },
        "required": ["model", "groupby"],
        "additionalProperties": False,
    },
)
def read_group(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    domain = policy.domain(model, args.get("domain"))
    groupby = list(args["groupby"])
    aggregates = list(args.get("aggregates") or ["__count"])
    policy.groupby(model, groupby)
    policy.aggregates(model, aggregates)
    policy.order(model, args.get("order"))
    limit = _limit(args.get("limit"))
    try:
        rows = model._read_group(
            domain, groupby, aggregates, limit=limit + 1, order=args.get("order") or None
        )
    except ValueError as exc:
        raise ToolInputError(str(exc)) from None
    groups = []
    for row in rows[:limit]:
        values = dict(zip(groupby + aggregates, row, strict=True))
        groups.append({key: _plain(value) for key, value in values.items()})
    return {"model": model._name, "groups": groups, "truncated": len(rows) > limit}


def _plain(value):
    if hasattr(value, "_name"):  # a recordset
        return [value.id, value.display_name] if len(value) == 1 else value.ids
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@tool(
    "orm.count",
    display_name="Count records",
    description="Count the records of an allowed model matching a domain.",
    input_schema={
        "type": "object",
        "properties": {"model": _MODEL, "domain": _DOMAIN},
        "required": ["model"],
        "additionalProperties": False,
    },
)
def count(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    return {"model": model._name, "count": model.search_count(policy.domain(model, args.get("domain")))}


def _preview_create(ctx, args):
    return f"Create a {args['model']} record with {args['values']}"


def _preview_write(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    records = policy.records(model, args["ids"])
    names = ", ".join(records.mapped("display_name")[:10])
    return f"Update {len(records)} {args['model']} record(s) ({names}) with {args['values']}"


@tool(
    "orm.create",
    display_name="Create a record",
    description="Create one record of an allowed model.",
    mode="write",
    preview=_preview_create,
    input_schema={
        "type": "object",
        "properties": {"model": _MODEL, "values": {"type": "object"}},
        "required": ["model", "values"],
        "additionalProperties": False,
    },
)
def create(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    policy.values(model, args["values"], create=True)
    record = model.create(args["values"])
    return {"model": model._name, "id": record.id, "display_name": record.display_name}


@tool(
    "orm.write",
    display_name="Update records",
    description="Update records of an allowed model by id.",
    mode="write",
    preview=_preview_write,
    input_schema={
        "type": "object",
        "properties": {
            "model": _MODEL,
            "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 100},
            "values": {"type": "object"},
        },
        "required": ["model", "ids", "values"],
        "additionalProperties": False,
    },
)
def write(ctx, args):
    policy = _policy(ctx)
    model = policy.model(args["model"])
    policy.values(model, args["values"])
    records = policy.records(model, args["ids"])
    missing = sorted(set(args["ids"]) - set(records.ids))
    if missing:
        # Missing or hidden by a record rule: the answer does not tell which.
        raise ToolDenied(f"no {model._name} records you may change with ids {missing}")
    records.write(args["values"])
    return {"model": model._name, "updated": records.ids}
