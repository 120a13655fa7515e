from ..ai_engine import RateLimiter, SystemClock, ToolRegistry

# One registry per process: handlers are Python code, loaded once whatever the database. Which
# tools a database offers is decided by its aia.tool records, generated from this catalogue
# (``aia.tool._aia_sync_catalogue``) by the addon that defines the handlers.
CATALOGUE = ToolRegistry(rate_limiter=RateLimiter(SystemClock()))
# {tool name: {id key: model}}: the keys of a tool's rows that hold Odoo records' ids, beside their
# names (``customer_id`` and ``customer``), so that an answer mentioning one links to it
# (ai_core.rendering.records_in).
RECORD_KEYS = {}


def tool(name, *, description, input_schema, requires=None, record_keys=None, **options):
    """Declare a tool handler ``handler(context, arguments)``; see :class:`ai_engine.ToolSpec`.

    ``requires`` (a :class:`~.toolkit.Requires`) is checked as the session's user before the
    handler runs. ``record_keys`` (``{"customer_id": "res.partner"}``): the keys of its
    output's rows that hold records' ids (see RECORD_KEYS).
    """
    register = CATALOGUE.tool(name, description=description, input_schema=input_schema, **options)
    if record_keys:
        RECORD_KEYS[name] = dict(record_keys)

    def decorate(handler):
        register(requires.guard(name, handler) if requires else handler)
        return handler

    return decorate


def addon_of(spec):
    """The addon whose Python defines ``spec``'s handler (``odoo.addons.<addon>...``), or None."""
    parts = (getattr(spec.handler, "__module__", None) or "").split(".")
    return parts[2] if parts[:2] == ["odoo", "addons"] and len(parts) > 2 else None
