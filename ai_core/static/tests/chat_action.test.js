import {emptyChatData} from "@ai_core/chat/chat_action";
import {defineMailModels} from "@mail/../tests/mail_test_helpers";
import {describe, expect, test} from "@odoo/hoot";
import {queryAll, queryAllTexts, waitFor, waitForNone} from "@odoo/hoot-dom";
import {
    contains,
    getService,
    MockServer,
    mountWebClient,
    onRpc,
    patchWithCleanup,
    serverState,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");
defineMailModels();

const AGENTS = [
    {id: 1, code: "general", name: "General assistant", description: "Contacts and companies."},
    {id: 2, code: "finance", name: "Finance", description: "Answers about accounting."},
];

/** What aia.session.chat_data() returns, with the fields the test cares about. */
function chatData(values) {
    return {...emptyChatData(7, "Create Ghost Ltd", AGENTS[1], "done"), ...values};
}

/** A session of the list whose turn waits for a decision on one write ``tool`` call. */
function mockPendingApproval({id, name, tool, approvalId, approver, canDecide}) {
    const callId = `call_${approvalId}`;
    mockBootstrap([{id, name, state: "waiting_approval", agent_name: "Finance", write_date: false}]);
    onRpc("aia.session", "chat_data", () =>
        chatData({
            id,
            name,
            state: "waiting_approval",
            messages: [
                {id: 1, role: "user", text: name, tool_calls: []},
                {
                    id: 2,
                    role: "assistant",
                    text: "",
                    tool_calls: [{id: callId, name: tool.replace(".", "_")}],
                },
            ],
            approvals: [
                {
                    id: approvalId,
                    call_id: callId,
                    name: tool,
                    arguments: {},
                    preview: name.split(" ")[0],
                    state: "pending",
                    approver,
                    can_decide: canDecide,
                },
            ],
        })
    );
}

/** The server's side of a running turn: bus.bus notifications to the session owner's partner. */
function pushEvents(sessionId, events) {
    MockServer.env["bus.bus"]._sendone(serverState.partnerId, "aia.session/events", {
        session_id: sessionId,
        events,
    });
}

function mockBootstrap(sessions = []) {
    onRpc("aia.session", "chat_bootstrap", () => ({enabled: true, agents: AGENTS, sessions}));
}

async function openChat() {
    await mountWebClient();
    await getService("action").doAction({
        type: "ir.actions.client",
        tag: "aia_chat",
        name: "Chat",
    });
    await waitFor(".o_aia_chat");
}

/** Pick the Finance agent, type a message and send it; the start RPC answers session 7. */
async function startChat(text) {
    await contains(".o_aia_agent_select").select("finance");
    await contains(".o_aia_input").edit(text, {confirm: false});
    await contains(".o_aia_send").click();
}

test("sends the first message to the picked agent and streams the turn", async () => {
    let saved = chatData({state: "running"});
    mockBootstrap();
    onRpc("aia.session", "start", ({args}) => {
        expect.step(`start ${args.join(" / ")}`);
        return 7;
    });
    onRpc("aia.session", "chat_data", ({args}) => {
        expect.step(`chat_data ${args[0]}`);
        return saved;
    });
    await openChat();
    expect(".o_aia_agent_select option").toHaveCount(2);
    expect(".o_aia_session_item").toHaveCount(0);

    await startChat("Create Ghost Ltd");
    expect.verifySteps(["start finance / Create Ghost Ltd"]);
    expect(".o_aia_pending .o_aia_bubble").toHaveText("Create Ghost Ltd");
    expect(".o_aia_session_item.active").toHaveCount(1);
    expect(".o_aia_stop").toHaveCount(1);

    pushEvents(7, [{type: "text_delta", text: "Let me "}]);
    await waitFor(".o_aia_live .o_aia_streaming:contains(Let me)");
    pushEvents(7, [
        {type: "text_delta", text: "create it."},
        {
            type: "tool_call",
            call_id: "call_1",
            name: "orm.create",
            arguments: {model: "res.partner", values: {name: "Ghost Ltd"}},
        },
    ]);
    await waitFor(".o_aia_live .o_aia_tool_card[data-call-id=call_1]");
    expect(".o_aia_live .o_aia_streaming").toHaveText("Let me create it.");
    expect(".o_aia_live .o_aia_tool_card .o_aia_tool_name").toHaveText("orm.create");
    expect(".o_aia_live .o_aia_tool_card").toHaveAttribute("data-status", "running");

    pushEvents(7, [
        {
            type: "would_execute",
            call_id: "call_1",
            name: "orm.create",
            arguments: {model: "res.partner", values: {name: "Ghost Ltd"}},
            preview: "Create res.partner {'name': 'Ghost Ltd'}",
        },
        {
            type: "tool_result",
            call_id: "call_1",
            name: "orm.create",
            status: "shadowed",
            content: '{"shadow": true}',
            latency_ms: 12,
        },
    ]);
    await waitFor(".o_aia_live .o_aia_tool_card[data-status=shadowed]");
    expect(".o_aia_live .o_aia_shadow_badge").toHaveText("shadow");
    expect(".o_aia_live .o_aia_preview").toHaveText(
        "Would have done: Create res.partner {'name': 'Ghost Ltd'}"
    );
    expect(".o_aia_live .o_aia_latency").toHaveText("12 ms");
    await contains(".o_aia_live .o_aia_result summary").click();
    expect(".o_aia_live .o_aia_result pre").toHaveText('{"shadow": true}');
    expect.verifySteps([]);

    // Each provider call's usage adds the total the server counted to the running totals.
    pushEvents(7, [
        {
            type: "usage",
            provider: "anthropic",
            model: "claude-test",
            input_tokens: 40,
            output_tokens: 20,
            cache_read_tokens: 30,
            cache_write_tokens: 10,
            total_tokens: 100,
            cost: "0.0015",
            latency_ms: 80,
        },
    ]);
    await waitFor(".o_aia_totals:contains(100 tokens)");
    expect(".o_aia_totals").toHaveText("100 tokens · cost 0.0015");

    // The turn ends: the saved transcript replaces the live bubble.
    saved = chatData({
        total_tokens: 120,
        total_cost: 0.0021,
        messages: [
            {id: 1, role: "user", text: "Create Ghost Ltd", tool_calls: []},
            {
                id: 2,
                role: "assistant",
                text: "Let me create it.",
                tool_calls: [{id: "call_1", name: "orm_create"}],
            },
            {id: 3, role: "tool", text: '{"shadow": true}', tool_calls: []},
            {id: 4, role: "assistant", text: "Ghost Ltd would have been created.", tool_calls: []},
        ],
        executions: [
            {
                id: 1,
                call_id: "call_1",
                name: "orm.create",
                arguments: {model: "res.partner", values: {name: "Ghost Ltd"}},
                content: '{"shadow": true}',
                preview: "Create res.partner {'name': 'Ghost Ltd'}",
                latency_ms: 12,
                status: "shadowed",
            },
        ],
    });
    pushEvents(7, [
        {type: "text_delta", text: "Ghost Ltd would have been created."},
        {type: "done", stop_reason: "end_turn", text: "Ghost Ltd would have been created."},
    ]);
    await waitForNone(".o_aia_live");
    expect.verifySteps(["chat_data 7"]);
    expect(queryAllTexts(".o_aia_transcript .o_aia_bubble")).toEqual([
        "Create Ghost Ltd",
        "Let me create it.",
        "Ghost Ltd would have been created.",
    ]);
    expect(".o_aia_tool_card").toHaveCount(1);
    expect(".o_aia_tool_card .o_aia_shadow_badge").toHaveText("shadow");
    expect(".o_aia_session_state").toHaveText("Done");
    expect(".o_aia_totals").toHaveText("120 tokens · cost 0.0021");
    expect(".o_aia_stop").toHaveCount(0);
    expect(".o_aia_error").toHaveCount(0);
});

test("an action waiting for approval is approved from its card", async () => {
    let saved;
    mockBootstrap();
    onRpc("aia.session", "start", () => 7);
    onRpc("aia.session", "chat_data", () => saved);
    onRpc("aia.approval", "action_approve", ({args}) => {
        expect.step(`action_approve ${args[0]}`);
        return true;
    });
    await openChat();
    await startChat("Create Approved Ltd");

    pushEvents(7, [
        {
            type: "tool_call",
            call_id: "call_2",
            name: "orm.create",
            arguments: {model: "res.partner", values: {name: "Approved Ltd"}},
        },
        {
            type: "approval_required",
            call_id: "call_2",
            name: "orm.create",
            arguments: {model: "res.partner", values: {name: "Approved Ltd"}},
            preview: "Create res.partner {'name': 'Approved Ltd'}",
        },
    ]);
    await waitFor(".o_aia_live .o_aia_tool_card[data-status=approval]");
    expect(".o_aia_live .o_aia_tool_status").toHaveText("Needs approval");

    saved = chatData({
        name: "Create Approved Ltd",
        state: "waiting_approval",
        messages: [
            {id: 1, role: "user", text: "Create Approved Ltd", tool_calls: []},
            {id: 2, role: "assistant", text: "", tool_calls: [{id: "call_2", name: "orm_create"}]},
        ],
        approvals: [
            {
                id: 31,
                call_id: "call_2",
                name: "orm.create",
                arguments: {model: "res.partner", values: {name: "Approved Ltd"}},
                preview: "Create res.partner {'name': 'Approved Ltd'}",
                state: "pending",
                approver: "Mitchell Admin",
                can_decide: true,
            },
        ],
    });
    pushEvents(7, [{type: "done", stop_reason: "approval_required", text: ""}]);
    await waitFor(".o_aia_approve");
    expect(".o_aia_session_state").toHaveText("Waiting for approval");
    expect(".o_aia_tool_card .o_aia_preview").toHaveText(
        "Proposed: Create res.partner {'name': 'Approved Ltd'}"
    );
    expect(".o_aia_reject").toHaveCount(1);
    expect(".o_aia_send").not.toBeEnabled();

    await contains(".o_aia_approve").click();
    expect.verifySteps(["action_approve 31"]);
    expect(".o_aia_approve").toHaveCount(0);
    expect(".o_aia_approval_state").toHaveText("Approved");
    expect(".o_aia_stop").toHaveCount(1);

    // The resumed turn streams the result into the same card.
    pushEvents(7, [
        {
            type: "tool_result",
            call_id: "call_2",
            name: "orm.create",
            status: "ok",
            content: '{"id": 42}',
            latency_ms: 30,
        },
    ]);
    await waitFor(".o_aia_tool_card[data-status=ok]");
    expect(".o_aia_tool_card").toHaveCount(1);
    expect(".o_aia_tool_card .o_aia_tool_status").toHaveText("OK");
    expect(".o_aia_tool_card .o_aia_latency").toHaveText("30 ms");
});

test("a pending action is rejected with a reason", async () => {
    mockPendingApproval({
        id: 8,
        name: "Delete Acme",
        tool: "orm.unlink",
        approvalId: 32,
        approver: "Mitchell Admin",
        canDecide: true,
    });
    onRpc("aia.approval", "action_reject", ({args}) => {
        expect.step(`action_reject ${JSON.stringify(args)}`);
        return true;
    });
    await openChat();
    await contains(".o_aia_session_item[data-session-id='8']").click();
    await waitFor(".o_aia_reject");
    await contains(".o_aia_reject_reason").edit("Acme is a customer", {confirm: false});
    await contains(".o_aia_reject").click();
    expect.verifySteps([`action_reject [[32],"Acme is a customer"]`]);
    expect(".o_aia_approval_state").toHaveText("Rejected");
});

test("a pending action someone else decides on offers no buttons", async () => {
    mockPendingApproval({
        id: 9,
        name: "Pay Acme",
        tool: "orm.write",
        approvalId: 33,
        approver: "Marc Demo",
        canDecide: false,
    });
    await openChat();
    await contains(".o_aia_session_item[data-session-id='9']").click();
    await waitFor(".o_aia_approval_waiting");
    expect(".o_aia_approval_waiting").toHaveText("This action waits for the decision of Marc Demo.");
    expect(".o_aia_approve").toHaveCount(0);
    expect(".o_aia_reject").toHaveCount(0);
});

test("an error event shows the error state with its message", async () => {
    let saved = chatData({state: "running"});
    mockBootstrap();
    onRpc("aia.session", "start", () => 7);
    onRpc("aia.session", "chat_data", () => saved);
    await openChat();
    await startChat("Hello");

    const technical = "Provider unavailable (anthropic:2: HTTP 529 overloaded).";
    pushEvents(7, [{type: "error", code: "provider_unavailable", message: technical}]);
    await waitFor(".o_aia_error");
    // What failed and whether to retry, in a person's words; the technical message folded below.
    expect(".o_aia_error .o_aia_error_summary").toHaveText(
        "The AI service is unavailable or overloaded right now. Try again in a few minutes."
    );
    expect(queryAll(".o_aia_error details .o_aia_error_message").map((el) => el.textContent)).toEqual([
        technical,
    ]);

    saved = chatData({
        state: "error",
        error_message: technical,
        error_code: "provider_auth",
        messages: [{id: 1, role: "user", text: "Hello", tool_calls: []}],
    });
    pushEvents(7, [{type: "done", stop_reason: "error", text: ""}]);
    await waitForNone(".o_aia_live");
    expect(".o_aia_session_state").toHaveText("Error");
    expect(".o_aia_error .o_aia_error_summary").toHaveText(
        "The AI service refused this installation's credentials: retrying will not help, an administrator must check the provider's settings."
    );
    // The user may try again in the same session.
    await contains(".o_aia_input").edit("Hello again", {confirm: false});
    expect(".o_aia_send").toBeEnabled();
});

test("Stop cancels the running session", async () => {
    let saved = chatData({
        id: 9,
        name: "Long report",
        state: "running",
        messages: [{id: 1, role: "user", text: "Long report", tool_calls: []}],
    });
    mockBootstrap([{id: 9, name: "Long report", state: "running", agent_name: "Finance", write_date: false}]);
    onRpc("aia.session", "chat_data", () => saved);
    onRpc("aia.session", "action_cancel", ({args}) => {
        expect.step(`action_cancel ${args[0]}`);
        saved = {...saved, state: "cancelled"};
        return true;
    });
    await openChat();
    await contains(".o_aia_session_item[data-session-id='9']").click();
    await waitFor(".o_aia_stop");
    await contains(".o_aia_stop").click();
    expect.verifySteps(["action_cancel 9"]);
    await waitFor(".o_aia_cancelled");
    expect(".o_aia_session_state").toHaveText("Cancelled");
    expect(".o_aia_stop").toHaveCount(0);
    expect(".o_aia_session_item.active .badge").toHaveText("Cancelled");
});

test("an answer shows the knowledge passages it cites", async () => {
    mockBootstrap([{id: 7, name: "Returns", state: "done", agent_name: "Finance", write_date: false}]);
    onRpc("aia.session", "chat_data", () =>
        chatData({
            messages: [
                {id: 1, role: "user", text: "How long for returns?", tool_calls: []},
                {
                    id: 2,
                    role: "assistant",
                    text: "Within 30 days [1].",
                    tool_calls: [],
                    citations: [
                        {n: 1, document_id: 4, document_name: "Returns policy", page: 2, chunk_id: "4-0"},
                        {n: 2, document_id: 5, document_name: "Shipping.md", page: null, chunk_id: "5-1"},
                        {
                            n: 3,
                            document_id: 6,
                            document_name: "Manual.pdf",
                            page: 4,
                            page_end: 5,
                            chunk_id: "6-2",
                        },
                    ],
                },
            ],
        })
    );
    await openChat();
    await contains(".o_aia_session_item[data-session-id='7']").click();
    await waitFor(".o_aia_citations");
    expect(".o_aia_message_user .o_aia_citations").toHaveCount(0);
    expect(queryAll(".o_aia_citation").map((el) => el.textContent)).toEqual([
        "[1] Returns policy, p. 2",
        "[2] Shipping.md",
        "[3] Manual.pdf, pp. 4–5",
    ]);
    expect(".o_aia_citation[data-document-id='4']").toHaveCount(1);
});

test("a delegated call shows a card of the session it started, which it opens", async () => {
    const delegating = {
        id: 3,
        role: "assistant",
        text: "",
        tool_calls: [{id: "call_9", name: "agent_stock"}],
    };
    let saved = chatData({state: "running"});
    mockBootstrap();
    onRpc("aia.session", "start", () => 7);
    onRpc("aia.session", "chat_data", ({args}) => {
        expect.step(`chat_data ${args[0]}`);
        const [sessionId] = args[0];
        return sessionId === 8 ? chatData({id: 8, name: "Count the chairs", state: "running"}) : saved;
    });
    await openChat();
    await startChat("Chairs?");

    pushEvents(7, [
        {
            type: "tool_call",
            call_id: "call_9",
            name: "agent.stock",
            arguments: {task: "Count the chairs"},
        },
        {
            type: "tool_deferred",
            call_id: "call_9",
            name: "agent.stock",
            arguments: {task: "Count the chairs"},
            reason: "Delegated to Stock",
            ref: {session_id: 8},
        },
    ]);
    await waitFor(".o_aia_live .o_aia_tool_card[data-status=deferred]");
    expect(".o_aia_live .o_aia_tool_status").toHaveText("Delegated");
    expect(".o_aia_live .o_aia_deferred_reason").toHaveText("Delegated to Stock");

    saved = chatData({
        state: "waiting_tool",
        messages: [{id: 1, role: "user", text: "Chairs?", tool_calls: []}, delegating],
        deferred: {
            call_9: {
                reason: "Delegated to Stock",
                session_id: 8,
                session_name: "Count the chairs",
                session_state: "running",
            },
        },
    });
    pushEvents(7, [{type: "done", stop_reason: "tool_deferred", text: ""}]);
    await waitFor(".o_aia_deferred_state");
    expect.verifySteps(["chat_data 7"]);
    expect(".o_aia_session_state").toHaveText("Waiting for delegated work");
    expect(".o_aia_deferred_state").toHaveText("Running");
    // The session waits for its delegate: it can be stopped, nothing can be sent to it.
    expect(".o_aia_stop").toHaveCount(1);
    expect(".o_aia_send").toHaveCount(0);

    await contains(".o_aia_deferred_open").click();
    expect.verifySteps(["chat_data 8"]);
    await waitFor(".o_aia_session_name:contains(Count the chairs)");
});

test("a call that started a workflow run opens the run's form", async () => {
    mockBootstrap([
        {id: 7, name: "Month end", state: "waiting_tool", agent_name: "Finance", write_date: false},
    ]);
    onRpc("aia.session", "chat_data", () =>
        chatData({
            state: "waiting_tool",
            messages: [
                {id: 1, role: "user", text: "Month end?", tool_calls: []},
                {
                    id: 2,
                    role: "assistant",
                    text: "",
                    tool_calls: [{id: "call_5", name: "workflow_month_end"}],
                },
            ],
            deferred: {
                call_5: {
                    reason: "Workflow Month-end review",
                    res_model: "aia.workflow.run",
                    res_id: 3,
                    state: "running",
                },
            },
        })
    );
    await openChat();
    await contains(".o_aia_session_item").click();
    await waitFor(".o_aia_deferred_state");
    expect(".o_aia_deferred_reason").toHaveText("Workflow Month-end review");
    expect(".o_aia_deferred_state").toHaveText("Running");
    patchWithCleanup(getService("action"), {
        doAction(action) {
            expect.step(`${action.res_model} ${action.res_id} ${action.views[0][1]}`);
        },
    });
    await contains(".o_aia_deferred_open").click();
    expect.verifySteps(["aia.workflow.run 3 form"]);
});

test("answers render as the server sanitized them; user text and tool results stay text", async () => {
    const hostile = '<img src="x" onerror="window.aiaXss = 1">';
    mockBootstrap([{id: 7, name: "Totals", state: "done", agent_name: "Finance", write_date: false}]);
    onRpc("aia.session", "chat_data", () =>
        chatData({
            messages: [
                {
                    id: 1,
                    role: "user",
                    text: `Totals? ${hostile}`,
                    tool_calls: [],
                    create_date: "2026-12-07 09:15:00",
                },
                {
                    id: 2,
                    role: "assistant",
                    text: "",
                    tool_calls: [{id: "call_1", name: "orm_search_read"}],
                    create_date: "2026-12-07 09:15:02",
                },
                {
                    id: 3,
                    role: "assistant",
                    text: "## Totals\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                    html: "<h2>Totals</h2><table><tbody><tr><td>1</td><td>2</td></tr></tbody></table>",
                    tool_calls: [],
                    create_date: "2026-12-07 09:15:05",
                },
            ],
            executions: [
                {
                    id: 1,
                    call_id: "call_1",
                    name: "orm.search_read",
                    arguments: {},
                    preview: "",
                    content: `{"name": "${hostile.replaceAll('"', "'")}"}`,
                    latency_ms: 3,
                    status: "ok",
                },
            ],
        })
    );
    patchWithCleanup(navigator.clipboard, {
        writeText: async (text) => expect.step(`copied ${text}`),
    });
    await openChat();
    await contains(".o_aia_session_item[data-session-id='7']").click();
    await waitFor(".o_aia_markdown h2");
    expect(".o_aia_markdown h2").toHaveText("Totals");
    expect(".o_aia_markdown td").toHaveCount(2);
    // Nothing of the hostile markup became an element: the user's text and the tool's result
    // show it as text.
    expect(".o_aia_transcript img").toHaveCount(0);
    expect(".o_aia_message_user .o_aia_bubble").toHaveText(`Totals? ${hostile}`);
    expect(window.aiaXss).toBe(undefined);
    expect(".o_aia_time").toHaveCount(2);
    await contains(".o_aia_copy").click();
    expect.verifySteps(["copied ## Totals\n\n| a | b |\n|---|---|\n| 1 | 2 |"]);
});
