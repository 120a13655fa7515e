"""The tool of live chat sessions: hand the conversation over to a human operator.

It changes no business record, only who answers the visitor, so it is not a write tool: it runs
in read-only live chat sessions (and is offered only there, whatever the agent's allowlist).
"""

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools.catalogue import tool

from . import livechat


@tool(
    "livechat.handover",
    display_name="Hand over to a human operator",
    description="In a website live chat: hand the conversation over to a human operator, when the "
    "visitor asks for a person (a human, an operator, someone) or when you cannot answer. A "
    "colleague joins after your answer: tell the visitor so in that answer. It fails when no "
    "operator is available: then say so and offer to take a message.",
    input_schema={"type": "object", "properties": {}, "additionalProperties": False},
)
def handover(ctx, args):
    session = ctx.session.sudo()
    channel = session.env["discuss.channel"]
    if session.aia_livechat and session.discuss_model == "discuss.channel":
        channel = channel.browse(session.discuss_id).exists()
    if not channel or not livechat.agent_of(channel):
        raise ToolInputError("this conversation is not a live chat you are the operator of")
    if not channel._get_human_operator(None, channel.env["chatbot.script.step"]):
        return {"handed_over": False, "reason": "no operator is available right now"}
    session.aia_handover_requested = True
    return {"handed_over": True, "note": "an operator joins the conversation after your answer"}
