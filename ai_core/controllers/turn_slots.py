"""Turns a user may run inside API requests at once, over every worker of the server."""

import logging

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import sql_db
from odoo.http import request

from .helpers import ApiError, int_param

_logger = logging.getLogger(__name__)

# Turns a user may run inside requests at once, over every worker of the server.
CONCURRENT_TURNS_PARAM = "aia.api_max_concurrent_turns"
DEFAULT_CONCURRENT_TURNS = 2
MAX_CONCURRENT_TURNS = 100
# Retry-After of a turn refused because the user's other turns hold every slot.
TURN_SLOT_RETRY_AFTER = 5
# pg_try_advisory_xact_lock(TURN_LOCK_SPACE + slot, uid): the slots of in-request turns. The
# two-key advisory lock space does not overlap the one-key space queue_job and others use.
TURN_LOCK_SPACE = 0x41494100


class TurnSlot:
    """One of the slots of a user's in-request turns, held until :meth:`release`.

    A slot is a PostgreSQL advisory lock taken in a transaction of a connection of its own, so
    that it counts the turns of every worker process and thread, and a worker that dies frees
    its slot with its connection. The transaction runs in READ COMMITTED: it holds no snapshot
    while it waits. Releasing twice is harmless.
    """

    def __init__(self, cr=None):
        self._cr = cr  # None: a slot of uncapped turns, nothing to release

    @classmethod
    def take(cls, dbname, uid, count):
        """A free slot of the ``count`` slots of user ``uid``, or None when they are all taken."""
        cr = sql_db.db_connect(dbname).cursor()
        try:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            for slot in range(count):
                cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (TURN_LOCK_SPACE + slot, uid))
                if cr.fetchone()[0]:
                    return cls(cr)
        except BaseException:
            cr.close()
            raise
        cr.close()
        return None

    def release(self):
        cr, self._cr = self._cr, None
        if cr is not None:
            try:
                cr.close()  # rolls back: the lock goes with the transaction
            except Exception:
                _logger.warning("aia.api: closing a turn slot failed", exc_info=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def take_turn_slot():
    """Take one of the user's in-request turn slots; raises 429 when their turns hold them all.

    Returns the slot, to release when the turn ends (also a context manager).
    """
    env = request.env
    count = min(int_param(CONCURRENT_TURNS_PARAM, DEFAULT_CONCURRENT_TURNS), MAX_CONCURRENT_TURNS)
    if count <= 0:
        return TurnSlot()
    slot = TurnSlot.take(env.cr.dbname, env.uid, count)
    if slot is None:
        raise ApiError(
            429,
            "too_many_turns",
            env._(
                "You already have %(count)s turns running through the API: wait for one to end.",
                count=count,
            ),
            retry_after=TURN_SLOT_RETRY_AFTER,
        )
    return slot
