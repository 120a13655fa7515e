from ..ai_engine import RateLimiter, SystemClock, ToolRegistry

# One registry per process: handlers are Python code, loaded once whatever the database. Which
# tools a database offers is decided by its aia.tool records.
CATALOGUE = ToolRegistry(rate_limiter=RateLimiter(SystemClock()))


def tool(name, *, description, input_schema, **options):
    """Declare a tool handler ``handler(context, arguments)``; see :class:`ai_engine.ToolSpec`."""
    return CATALOGUE.tool(name, description=description, input_schema=input_schema, **options)
