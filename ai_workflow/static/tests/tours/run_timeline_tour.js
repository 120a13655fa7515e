import {registry} from "@web/core/registry";

// A run waiting for its approver, on its form through the real server: the timeline reads the
// run, the approver approves from it, the run and its form's header move on, the session opens.
registry.category("web_tour.tours").add("ai_workflow_run_timeline_tour", {
    steps: () => [
        {
            content: "The agent's task is done, with its agent",
            trigger:
                ".o_aia_run_timeline .o_aia_task[data-kind=execute][data-state=done] .o_aia_task_agent:contains(Stock)",
        },
        {
            content: "The approval waits for me",
            trigger: ".o_aia_task[data-kind=approval][data-state=waiting] .o_aia_task_approver",
        },
        {
            content: "Unfold the agent's output",
            trigger: ".o_aia_task[data-kind=execute] .o_aia_task_output summary",
            run: "click",
        },
        {
            content: "The output is text: its markup is not rendered",
            trigger: ".o_aia_task_output_text:contains(12 chairs)",
        },
        {
            content: "No element came from the model's text",
            trigger: ".o_aia_run_timeline:not(:has(.o_aia_task_output_text *))",
        },
        {
            content: "Approve",
            trigger: ".o_aia_task[data-kind=approval] .o_aia_task_approve",
            run: "click",
        },
        {
            content: "The approval is done",
            trigger: ".o_aia_task[data-kind=approval][data-state=done]",
        },
        {
            content: "The run is done, on the timeline and in the form's header",
            trigger: ".o_aia_run_state:contains(Done)",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Done)",
        },
        {
            content: "Open the agent's session",
            trigger: ".o_aia_task[data-kind=execute] .o_aia_task_session",
            run: "click",
        },
        {
            content: "The session's form is open: the Stock agent's, of this run",
            trigger:
                ".o_form_view:has(.o_field_widget[name=agent_id]:contains(Stock)) .o_field_widget[name=workflow_run_id]:contains(Chair count)",
        },
    ],
});
