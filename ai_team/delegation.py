"""Delegation: an agent hands a task to another agent, offered to it as the tool ``agent.<code>``.

The call starts a session of the delegated agent (the child) as the same user, in the same
company, and defers: the parent's turn stops, waiting, until the child's turn ends; the child's
answer (or why it failed) is then the call's result and the parent's turn goes on
(``aia.session._aia_turn_ended``). What the child may spend is what is left of the parent's.
"""

import re

from odoo.addons.ai_core.ai_engine import Deferred, ToolInputError, ToolSpec
from odoo.addons.ai_core.tools import toolkit

TOOL_PREFIX = "agent."
DEPTH_PARAM = "aia.delegation_max_depth"
DEFAULT_MAX_DEPTH = 2
# An agent code that gives a valid provider tool name once prefixed (64 characters at most).
DELEGABLE_CODE = re.compile(r"^[a-zA-Z0-9_-]{1,58}$")

INPUT_SCHEMA = toolkit.object_schema(
    {
        "task": {"type": "string", "minLength": 1, "description": "What the agent must do or answer."},
        "context": {
            "type": "string",
            "description": "What the agent needs to know to do it: facts, figures, the user's words.",
        },
    },
    required=["task"],
)


def delegation_spec(agent):
    """The tool that delegates a task to ``agent`` (a value of the setup cache: ids only)."""
    agent_id = agent.id

    def delegate(context, arguments):
        return context.env["aia.session"]._aia_delegate(context.session, agent_id, arguments)

    return ToolSpec(
        name=f"{TOOL_PREFIX}{agent.code}",
        description=(
            f"Hand a task to the agent {agent.name}"
            + (f": {agent.description}" if agent.description else ".")
            + " It works on its own with its own tools and answers; its answer is this tool's result."
        ),
        input_schema=INPUT_SCHEMA,
        handler=delegate,
        display_name=agent.name,
        # The child's own turn is bounded by its deadline; this is the time to start it.
        timeout=30.0,
    )


def task_text(delegator, arguments):
    """The child's first message: what the agent ``delegator`` (a name) asks, said to come from it
    (a model wrote it, not the user)."""
    context = (arguments.get("context") or "").strip()
    text = f"Task from the agent {delegator}:\n{arguments['task'].strip()}"
    return f"{text}\n\nContext:\n{context}" if context else text


def check_can_delegate(parent, agent, max_depth):
    """Raise ToolInputError when ``parent`` (a session) may not delegate to ``agent``: the chain of
    delegations would be deeper than ``max_depth``, or ``agent`` already works in it (a cycle)."""
    chain = parent.browse()
    session = parent
    while session and session not in chain:
        chain |= session
        session = session.parent_session_id
    if len(chain) > max_depth:
        raise ToolInputError(
            f"Delegation refused: the chain of delegated agents would be deeper than {max_depth}."
        )
    if agent in chain.agent_id:
        names = " → ".join(reversed(chain.mapped("agent_id.name")))
        raise ToolInputError(
            f"Delegation refused: {agent.name} already works on this request ({names}); "
            "an agent cannot delegate back into its own chain."
        )


def deferred(child):
    return Deferred(f"Delegated to {child.agent_id.name}", {"session_id": child.id})
