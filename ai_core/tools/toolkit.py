"""The toolkit of domain packs: what every pack's tools need besides their own figures.

- **Record references**: :class:`RecordRef` turns what the model gives (a JSON integer id, or a
  name, code, reference...) into one record the user may read, with one escaping for exact
  matches and one wording for unknown and ambiguous names; :func:`partner_ref` is the one of
  partners.
- **Declarative filters**: :class:`Filter` and :func:`apply_filters` turn the reference arguments
  of a call into the domain and the echo of the filters applied (so the model can tell which
  record a name matched).
- **Access requirements**: :class:`Requires`, declared on the tool (``@tool(..., requires=...)``)
  and checked before its handler runs, as the session's user.
- **Declarations**: :func:`tool_family`, the ``@tool`` of tools that share requirements and arguments.
- **Schema fragments and result helpers**: :func:`object_schema`, :func:`ref_schema`,
  :func:`limit_schema`, :data:`DATE`, :func:`row_limit`, :func:`money`, :func:`pct`, :func:`name`,
  :func:`session_company`.
- **Readable rows in SQL**: :func:`readable_row`, the columns of a record the user may read (the
  ORM's query, record rules included) looked up by id inside a tool's own statement.

Everything runs in the session user's environment (``ctx.env``, never sudo).
"""

from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import escape_psql

from ..ai_engine import ToolInputError
from .catalogue import tool

__all__ = [
    "CANDIDATES",
    "DATE",
    "Filter",
    "RecordRef",
    "Requires",
    "ambiguous",
    "apply_filters",
    "exact",
    "like_escape",
    "like_prefix",
    "limit_schema",
    "money",
    "name",
    "object_schema",
    "partner_ref",
    "pct",
    "readable_row",
    "ref_schema",
    "row_limit",
    "session_company",
    "tool_family",
]

# How many candidates an "ambiguous name" error lists.
CANDIDATES = 5
# How many choices an "unknown name" error lists, for the small sets that list them.
KNOWN_CHOICES = 20

DATE = {"type": "string", "format": "date"}


# === SCHEMA FRAGMENTS === #


def object_schema(properties, required=()):
    """A tool's input schema: an object of ``properties`` and nothing else."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def tool_family(*, requires=None, **shared):
    """The ``@tool`` of a pack's tools that share their requirements and some arguments.

    ``declare = tool_family(requires=..., limit=...)``, then ``@declare(name, display_name=...,
    description=..., properties={...})``: the input schema is the object of ``properties`` and
    the ``shared`` ones.
    """

    def declare(name, *, properties, **options):
        return tool(name, input_schema=object_schema({**properties, **shared}), requires=requires, **options)

    return declare


def ref_schema(description):
    """A record reference argument: a JSON integer is an id, a string a name (or code...)."""
    return {"type": ["integer", "string"], "minLength": 1, "description": description}


def limit_schema(default, maximum, what="rows"):
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": maximum,
        "default": default,
        "description": f"How many {what} to return (1 to {maximum}).",
    }


def row_limit(args, default, maximum, key="limit"):
    """``args[key]`` within 1 and ``maximum``; ``default`` when absent."""
    return min(max(int(args.get(key) or default), 1), maximum)


# === RESULTS === #


def money(currency, amount):
    # Adding 0.0 turns -0.0 into 0.0, which a model would read as a sign.
    return currency.round(amount or 0.0) + 0.0


def pct(part, whole, digits=1):
    """``part`` as a percentage of ``whole``; None when ``whole`` is zero (no meaningful rate)."""
    if not whole:
        return None
    return round(100.0 * part / whole, digits) + 0.0


def session_company(env, *fnames):
    """The session's company, with its ``fnames`` and the ``parent_path`` of the allowed companies
    read in one narrow query: the multi-company record rules of products, partners and more
    (``parent_of company_ids``) read that path, and a first read of a company field otherwise
    fetches all of res.company's hundred columns (a few ms, more than many a tool's own query)."""
    env.companies.fetch([*fnames, "parent_path"])
    return env.company


def readable_row(model, key, *fnames):
    """The ``fnames`` columns of the record of ``model`` whose id is ``key`` (an SQL expression of
    the outer statement) if the user may read it (the ORM's query, record rules included, archived
    records too), as a subquery to ``LEFT JOIN LATERAL ... ON TRUE``: a lookup by id per row,
    where a join makes PostgreSQL read every readable record (and their templates, for products)
    first. Its ``LIMIT 1`` (one id, one row) keeps PostgreSQL from turning it into that join."""
    model = model.with_context(active_test=False)
    query = model._search(Domain.TRUE)
    query.add_where(SQL("%s = %s", SQL.identifier(query.table, "id"), key))
    query.limit = 1
    return SQL(
        "(%s)",
        query.select(
            *(
                SQL("%s AS %s", model._field_to_sql(query.table, fname, query), SQL.identifier(fname))
                for fname in fnames
            )
        ),
    )


def name(record, empty=None):
    """A record's display name, or ``empty`` for an empty recordset."""
    return record.display_name if record else empty


# === MATCHING TEXT === #


def like_escape(text):
    """``text`` with the LIKE wildcards ``%`` and ``_`` (and the escape character) taken literally."""
    return escape_psql(text)


def like_prefix(prefix):
    """An ``=like`` / ``=ilike`` pattern matching the values that start with ``prefix``, literally."""
    return like_escape(prefix) + "%"


def exact(fname, text, *, case_sensitive=False):
    """The domain of the records whose ``fname`` is ``text`` (case-insensitive unless told)."""
    if case_sensitive:
        return Domain(fname, "=", text)
    return Domain(fname, "=ilike", like_escape(text))


def ambiguous(label, text, records, hint="Give the id or the exact name."):
    """The one error of every pack for a name that matches several records."""
    shown = "; ".join(f"{record.display_name} (id {record.id})" for record in records[:CANDIDATES])
    more = f" and {len(records) - CANDIDATES} more" if len(records) > CANDIDATES else ""
    return ToolInputError(f"{label} {text!r} is ambiguous: {shown}{more}. {hint}")


# === RECORD REFERENCES === #


class RecordRef:
    """How a pack finds one record of ``model`` from what the model gives.

    A JSON integer is an id (``"1001"`` may well be a reference); a string is matched exactly on
    ``exact`` fields in turn (case-insensitive, wildcards taken literally; a field named in
    ``case_sensitive`` matches as is, e.g. a barcode), then with ``ilike`` on ``fuzzy``, which must
    match one record. Only records of ``domain(env)`` (e.g. the session's company) are found.

    Args:
        model: The model name.
        label: How the errors name it ("sales team").
        exact: Fields matched exactly, first match wins.
        fuzzy: Field of the partial match; None for none.
        domain: ``domain(env) -> Domain`` of the records that may be named.
        case_sensitive: Fields of ``exact`` compared with ``=``.
        active_test: False to find archived records too.
        list_known: The "unknown" error lists the records that may be named (small sets).
        in_company: The errors name the session's company (the records are scoped to it).
    """

    def __init__(
        self,
        model,
        label,
        *,
        exact=("name",),
        fuzzy="name",
        domain=None,
        case_sensitive=(),
        active_test=True,
        list_known=False,
        in_company=False,
    ):
        self.model = model
        self.label = label
        self.exact = tuple(exact)
        self.fuzzy = fuzzy
        self.domain = domain or (lambda env: Domain.TRUE)
        self.case_sensitive = frozenset(case_sensitive)
        self.active_test = active_test
        self.list_known = list_known
        self.in_company = in_company

    def resolve(self, env, value):
        """The record ``value`` designates.

        Raises:
            ToolInputError: Unknown (or not readable), empty or ambiguous.
        """
        Model = env[self.model].with_context(active_test=self.active_test)
        base = self.domain(env)
        where = f" in company {env.company.name}" if self.in_company else ""
        if isinstance(value, int):
            record = Model.search(base & Domain("id", "=", value), limit=1)
            if not record:
                raise ToolInputError(f"unknown {self.label} id {value}{where} (or you may not read it)")
            return record
        text = value.strip()
        if not text:
            raise ToolInputError(f"empty {self.label}")
        matches = [exact(fname, text, case_sensitive=fname in self.case_sensitive) for fname in self.exact]
        if self.fuzzy:
            # The model's text taken literally: a bare "%" or "_" would match any record.
            matches.append(Domain(self.fuzzy, "=ilike", f"%{like_escape(text)}%"))
        for match in matches:
            records = Model.search(base & match, limit=CANDIDATES + 1)
            if len(records) == 1:
                return records
            if records:
                raise ambiguous(self.label, text, records)
        hint = ""
        if self.list_known:
            hint = "; known: " + ", ".join(Model.search(base, limit=KNOWN_CHOICES).mapped("display_name"))
        raise ToolInputError(f"unknown {self.label} {text!r}{where}{hint}")

    def __call__(self, env, value):
        return self.resolve(env, value)


def partner_ref(label, **options):
    """A :class:`RecordRef` of partners: an exact name or reference (``ref``), else the only
    partial match of the complete name ("Company, Contact"); ``options`` as RecordRef takes them."""
    return RecordRef("res.partner", label, exact=("name", "ref"), fuzzy="complete_name", **options)


# === DECLARATIVE FILTERS === #


class Filter:
    """A reference argument of a tool that filters its records.

    Args:
        arg: The argument's name; also the key of the echo.
        ref: A :class:`RecordRef`, or any ``ref(env, value) -> record``.
        field: The field path the record filters (``"team_id"``, ``"product_id.categ_id"``).
        operator: ``=`` by default; ``child_of`` for hierarchies.
        value: ``value(record)`` compared with the field; the record's id by default.
    """

    def __init__(self, arg, ref, field, operator="=", value=None):
        self.arg = arg
        self.resolve = ref
        self.field = field
        self.operator = operator
        self.value = value or (lambda record: record.id)

    def domain(self, record):
        return Domain(self.field, self.operator, self.value(record))


def apply_filters(env, args, filters, domain=Domain.TRUE):
    """The filters that ``args`` gives, resolved and applied.

    Returns:
        (domain & the filters, echo ``{arg: display name}``, records ``{arg: record}``).
    """
    echo, records = {}, {}
    for spec in filters:
        if args.get(spec.arg) is None:
            continue
        record = spec.resolve(env, args[spec.arg])
        domain &= spec.domain(record)
        echo[spec.arg] = record.display_name
        records[spec.arg] = record
    return domain, echo, records


# === ACCESS REQUIREMENTS === #


class Requires:
    """What a user needs to call a tool, checked before its handler runs.

    ``read``: models the user must be allowed to read (Odoo's own access error names the groups
    that may). ``groups``: groups (xml ids) the user must be in, for data Odoo lets every employee
    read but the tool's answers should not give them (e.g. stock figures without Inventory rights).

    A failed check is an ``AccessError``, which the tool context reports to the model as a denied
    call; nothing is read before it.
    """

    def __init__(self, *, read=(), groups=()):
        self.read = tuple(read)
        self.groups = tuple(groups)

    def __bool__(self):
        return bool(self.read or self.groups)

    def describe(self, env):
        """What these requirements ask, in words (for the tool's form)."""
        parts = [env._("read access to %(model)s", model=env[model]._description) for model in self.read]
        for xml_id in self.groups:
            group = env.ref(xml_id, raise_if_not_found=False)
            parts.append(env._("the group %(group)s", group=group.full_name if group else xml_id))
        return "; ".join(parts)

    def check(self, env, tool_name):
        for xml_id in self.groups:
            if not env.user.has_group(xml_id):
                group = env.ref(xml_id, raise_if_not_found=False)
                raise AccessError(
                    env._(
                        "%(user)s may not use %(tool)s: it requires the group %(group)s.",
                        user=env.user.name,
                        tool=tool_name,
                        group=group.full_name if group else xml_id,
                    )
                )
        for model in self.read:
            env[model].check_access("read")

    def guard(self, tool_name, handler):
        """``handler`` checking these requirements first, as the session's user."""

        def guarded(ctx, args):
            self.check(ctx.env, tool_name)
            return handler(ctx, args)

        guarded.__name__ = handler.__name__
        guarded.__qualname__ = handler.__qualname__
        guarded.__module__ = handler.__module__
        guarded.__doc__ = handler.__doc__
        guarded.requires = self
        return guarded
