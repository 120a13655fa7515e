"""The ledgers a turn writes: usage rows (``aia.usage.event``, append-only) and the tool call
counts of daily / monthly call budgets (the engine's ``CallLedger`` port)."""

from decimal import Decimal

from odoo import fields

from ..ai_engine import ToolResultBlock


def spending(sessions, since):
    """(tokens, cost) of the usage rows of ``sessions`` written since ``since``."""
    [(tokens, cost)] = (
        sessions.env["aia.usage.event"]
        .sudo()
        ._read_group(
            [("session_id", "in", sessions.ids), ("create_date", ">=", since)],
            aggregates=["total_tokens:sum", "cost:sum"],
        )
    )
    return tokens or 0, Decimal(str(cost or 0))


def left(cap, spent):
    """What is left of ``cap`` after ``spent``, never below 0; None when there is no cap."""
    return None if cap is None else max(cap - spent, 0)


class UsageLedger:
    """Writes the session's rows of the usage ledger, the one source of its totals and caps."""

    def __init__(self, session):
        self.session = session.sudo()

    def record_usage(self, event):
        """A provider call (a ``usage`` event)."""
        self._create(
            kind="provider_call",
            provider=event.provider,
            model_name=event.model,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cache_read_tokens=event.cache_read_tokens,
            cache_write_tokens=event.cache_write_tokens,
            total_tokens=event.total_tokens,
            cost=float(event.cost),
            latency_ms=event.latency_ms,
        )

    def record_tool_call(self, event):
        """A tool call (a ``tool_result`` event), priced or not."""
        self._create(
            kind="tool_call",
            tool_name=event.name,
            cost=float(event.cost),
            latency_ms=event.latency_ms,
            status=event.status,
        )

    def _create(self, **values):
        session = self.session
        return session.env["aia.usage.event"].create(
            {
                "session_id": session.id,
                "agent_id": session.agent_id.id,
                "user_id": session.user_id.id,
                "company_id": session.company_id.id,
                **values,
            }
        )


class ExecutionLedger:
    """Counts a tool's executions in the session's company, for daily / monthly call budgets
    (the engine's ``CallLedger`` port), and knows the calls of the session that ran (its
    ``ExecutedCalls`` port: the idempotency key of a call is its id in the session)."""

    def __init__(self, session):
        self.session = session

    def count_calls(self, tool_name, since):
        return (
            self.session.env["aia.tool.execution"]
            .sudo()
            .search_count(
                [
                    ("tool_name", "=", tool_name),
                    ("company_id", "=", self.session.company_id.id),
                    ("status", "in", ("ok", "error", "timeout")),
                    ("create_date", ">=", fields.Datetime.to_string(since.replace(tzinfo=None))),
                ]
            )
        )

    def record_call(self, tool_name, at):
        """Each call is counted from its execution row, written as soon as it ends."""

    def result_of(self, call_id):
        """The saved result of the call ``call_id`` of the session's last model answer, if it ran.

        Rows older than that answer are not its calls: a provider may number its calls anew in
        each answer.
        """
        session = self.session.sudo()
        # Its date only, in the same query (not the whole message, its content included).
        answer = session.env["aia.message"].search_fetch(
            [("session_id", "=", session.id), ("role", "=", "assistant")],
            ["create_date"],
            order="id desc",
            limit=1,
        )
        if not answer:
            return None
        execution = session.env["aia.tool.execution"].search(
            [
                ("session_id", "=", session.id),
                ("call_id", "=", call_id),
                ("create_date", ">=", answer.create_date),
            ],
            order="id desc",
            limit=1,
        )
        if not execution:
            return None
        return ToolResultBlock(call_id, execution.content or "", execution.status != "ok")
