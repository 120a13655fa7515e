import {registry} from "@web/core/registry";

// One turn through the real server: the chat starts a session, the turn runs (inline in tests),
// its events arrive over the bus and the saved transcript replaces the live bubble.
registry.category("web_tour.tours").add("ai_core_chat_tour", {
    url: "/odoo/ai-chat",
    steps: () => [
        {
            content: "Pick the agent",
            trigger: ".o_aia_agent_select",
            run: "select assistant",
        },
        {
            content: "Write a message",
            trigger: ".o_aia_input",
            run: "edit Create the contact Tour Ltd",
        },
        {
            content: "Send it",
            trigger: ".o_aia_send:enabled",
            run: "click",
        },
        {
            content: "The agent's answer is in the transcript",
            trigger: ".o_aia_message_assistant .o_aia_bubble:contains(Tour Ltd would have been created)",
        },
        {
            content: "The write was shadowed, and said so",
            trigger:
                ".o_aia_tool_card[data-status=shadowed]:has(.o_aia_tool_name:contains(orm.create)) .o_aia_shadow_badge",
        },
        {
            content: "The turn is over",
            trigger: ".o_aia_session_state:contains(Done)",
        },
        {
            content: "The session is listed and selected",
            trigger: ".o_aia_session_item.active:contains(Create the contact Tour Ltd)",
        },
        {
            content: "No live bubble is left",
            trigger: ".o_aia_chat:not(:has(.o_aia_live))",
        },
    ],
});
