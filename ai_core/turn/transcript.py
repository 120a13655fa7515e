"""Reading a session's transcript for a turn: one query, whatever the session's length."""

from odoo.tools import SQL

from ..ai_engine import Message


def load_transcript(session, memory_window=None, after=None):
    """``(id, engine message)`` of ``session``'s transcript, oldest first.

    Args:
        memory_window: Keep only what the agent's memory window can use: from the user message
            ``memory_window`` turns back. None loads the whole transcript.
        after: Instead, every message after this message id (the last one the session's running
            summary covers): what the window keeps, and what leaves it to be summarized.
    """
    session.env["aia.message"].flush_model(["session_id", "role", "content"])
    if after is not None:
        query = SQL(
            "SELECT id, content FROM aia_message WHERE session_id = %s AND id > %s ORDER BY id",
            session.id,
            after,
        )
    elif memory_window is None:
        query = SQL("SELECT id, content FROM aia_message WHERE session_id = %s ORDER BY id", session.id)
    else:
        # The window keeps at most memory_window earlier messages, so it starts at the
        # memory_window-th user message before the current one: every message with at most
        # memory_window user messages after it. Numbered over this session's rows only.
        query = SQL(
            """SELECT id, content FROM aia_message WHERE id IN (
                   SELECT id FROM (
                       SELECT id, COUNT(*) FILTER (WHERE role = 'user') OVER (
                                  ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                              ) AS later_questions
                         FROM aia_message
                        WHERE session_id = %s
                   ) AS numbered
                    WHERE later_questions <= %s
               )
               ORDER BY id""",
            session.id,
            memory_window,
        )
    rows = session.env.execute_query(query)
    return [(message_id, Message.from_dict(content)) for message_id, content in rows]
