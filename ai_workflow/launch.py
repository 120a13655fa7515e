"""A workflow offered to an agent as the tool ``workflow.<code>``: the call starts a run on the
question the agent gives, as the session's user in the session's company, and defers; the run's
answer (or why it did not finish) is the call's result (``aia.workflow.run._aia_end``)."""

from odoo.addons.ai_core.ai_engine import Deferred, ToolSpec
from odoo.addons.ai_core.tools import toolkit

TOOL_PREFIX = "workflow."

INPUT_SCHEMA = toolkit.object_schema(
    {
        "question": {
            "type": "string",
            "minLength": 1,
            "description": "The question the workflow works out, with what its agents need to know.",
        },
    },
    required=["question"],
)


def workflow_spec(workflow):
    """The tool that runs ``workflow`` (a value of the setup cache: ids only)."""
    workflow_id = workflow.id

    def start(context, arguments):
        run = context.env["aia.workflow.run"]._aia_start_from_session(
            context.session, workflow_id, arguments["question"]
        )
        return Deferred(
            f"Workflow {run.workflow_id.name} started",
            {"run_id": run.id, "res_model": run._name, "res_id": run.id},
        )

    return ToolSpec(
        name=f"{TOOL_PREFIX}{workflow.code}",
        description=(
            f"Run the workflow {workflow.name}"
            + (f": {workflow.description}" if workflow.description else ".")
            + " Several agents work the question out in steps; its answer is this tool's result."
        ),
        input_schema=INPUT_SCHEMA,
        handler=start,
        display_name=workflow.name,
        # The run's own steps are bounded by its caps; this is the time to start it.
        timeout=30.0,
    )
