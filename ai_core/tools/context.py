import logging

from psycopg2 import errors as pg_errors

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from ..ai_engine import ToolDenied, ToolInputError, ToolTimeout

_logger = logging.getLogger(__name__)


class OdooToolContext:
    """Runs tool handlers as the session's user, each call inside a savepoint.

    ``env`` is bound to the session's user and companies, never sudo. The time bound is
    PostgreSQL's ``statement_timeout`` for the call: a worker thread cannot share the cursor.

    Attributes:
        env: The session user's environment.
        allowed_models: Model names the generic ORM tools may touch for this agent.
        session: The ``aia.session`` the call belongs to (read it, do not sudo it).
    """

    def __init__(self, env, *, allowed_models=(), session=None):
        self.env = env
        self.allowed_models = frozenset(allowed_models)
        self.session = session

    def invoke(self, handler, arguments, *, timeout):
        cr = self.env.cr
        try:
            with cr.savepoint():
                cr.execute("SHOW statement_timeout")
                previous = cr.fetchone()[0]
                cr.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{max(int(timeout * 1000), 1)}ms"]
                )
                result = handler(self, arguments)
                self.env.flush_all()
                cr.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return result
        except pg_errors.QueryCanceled:
            raise ToolTimeout(f"the database query took more than {timeout:g} s") from None
        except AccessError as exc:
            raise ToolDenied(str(exc)) from None
        except (MissingError, ValidationError, UserError) as exc:
            raise ToolInputError(str(exc)) from None
