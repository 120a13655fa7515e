import {registry} from "@web/core/registry";

// A Discuss conversation with an agent, through the real server: the agent's form opens the
// direct chat, the user's message runs a turn (inline in tests), the answer arrives as the
// agent's message in the chat.
registry.category("web_tour.tours").add("ai_discuss_tour", {
    steps: () => [
        {
            content: "Open the direct chat with the agent",
            trigger: "button[name=action_aia_discuss_chat]",
            run: "click",
        },
        {
            content: "Write to the agent",
            trigger: ".o-mail-DiscussContent .o-mail-Composer-input[placeholder='Message Assistant…']",
            run: "edit How many contacts do we have?",
        },
        {
            content: "Send it",
            trigger: ".o-mail-DiscussContent .o-mail-Composer button[title='Send']:enabled",
            run: "click",
        },
        {
            content: "The message is in the chat",
            trigger: ".o-mail-Message-body:contains(How many contacts do we have?)",
        },
        {
            content: "The agent answers in the chat, rendered",
            trigger: ".o-mail-Message-body strong:contains(42 contacts)",
        },
    ],
});
