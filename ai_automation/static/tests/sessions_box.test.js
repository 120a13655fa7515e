import {waitForChannels} from "@bus/../tests/bus_test_helpers";
import {defineMailModels, openFormView, start, startServer} from "@mail/../tests/mail_test_helpers";
import {describe, expect, test} from "@odoo/hoot";
import {animationFrame, queryAllTexts, waitFor, waitForNone} from "@odoo/hoot-dom";
import {contains, MockServer, mockService, onRpc} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");
defineMailModels();

/** A row of what aia.session.aia_record_sessions() returns. */
function row(id, values = {}) {
    return {
        id,
        name: `Check contact: Azure (${id})`,
        agent: "Assistant",
        state: "done",
        date: "2026-11-20 10:00:00",
        is_mine: false,
        can_open: false,
        ...values,
    };
}

/**
 * Serve ``answer`` to the box's loads; the test may change ``server.answer`` later. The form may
 * mount its chatter more than once while it opens: loads are steps once ``server.record()`` is called.
 */
function mockSessions(partnerId, answer) {
    const server = {answer, recording: false, record: () => (server.recording = true)};
    onRpc("aia.session", "aia_record_sessions", ({args}) => {
        if (server.recording) {
            expect.step(`load ${args.join(" ")}`);
        }
        expect(args).toEqual(["res.partner", partnerId]);
        return server.answer;
    });
    return server;
}

async function openPartner() {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({name: "Azure"});
    return partnerId;
}

test("lists the record's sessions newest first with their state, name, time and the total", async () => {
    const partnerId = await openPartner();
    mockSessions(partnerId, {
        total: 12,
        can_view_all: true,
        sessions: [row(12, {state: "running"}), row(11, {state: "error"}), row(10)],
    });
    await start();
    await openFormView("res.partner", partnerId);
    await waitFor(".o_aia_sessions_box");
    expect(".o_aia_sessions_box").toHaveCount(1);
    expect(".o_aia_sessions_count").toHaveText("12");
    expect(queryAllTexts(".o_aia_sessions_name")).toEqual([
        "Check contact: Azure (12)",
        "Check contact: Azure (11)",
        "Check contact: Azure (10)",
    ]);
    expect(queryAllTexts(".o_aia_sessions_state")).toEqual(["Running", "Error", "Done"]);
    expect(".o_aia_sessions_state:first").toHaveClass("text-bg-info");
    expect(".o_aia_sessions_date:first").not.toHaveText("");
    expect(".o_aia_sessions_view_all").toHaveCount(1);
});

test("collapses and expands; no box without sessions", async () => {
    const partnerId = await openPartner();
    mockSessions(partnerId, {total: 1, can_view_all: false, sessions: [row(3)]});
    await start();
    await openFormView("res.partner", partnerId);
    await waitFor(".o_aia_sessions_row");
    expect(".o_aia_sessions_view_all").toHaveCount(0);
    await contains(".o_aia_sessions_toggle").click();
    await waitForNone(".o_aia_sessions_row");
    expect(".o_aia_sessions_count").toHaveText("1");
    await contains(".o_aia_sessions_toggle").click();
    await waitFor(".o_aia_sessions_row");
});

test("hides itself when no session is linked", async () => {
    const partnerId = await openPartner();
    mockSessions(partnerId, {total: 0, can_view_all: true, sessions: []});
    await start();
    await openFormView("res.partner", partnerId);
    await waitFor(".o-mail-Chatter");
    await animationFrame();
    expect(".o_aia_sessions_box").toHaveCount(0);
});

test("reloads when the record's channel says its sessions changed", async () => {
    const partnerId = await openPartner();
    const loads = mockSessions(partnerId, {
        total: 1,
        can_view_all: true,
        sessions: [row(5, {state: "running"})],
    });
    await start();
    await openFormView("res.partner", partnerId);
    await waitFor(".o_aia_sessions_row");
    await waitForChannels([`aia-record-res.partner_${partnerId}`]);
    loads.answer = {total: 2, can_view_all: true, sessions: [row(6, {state: "running"}), row(5)]};
    loads.record();
    // Another record's notification is not ours.
    MockServer.env["bus.bus"]._sendone(`aia-record-res.partner_${partnerId + 1}`, "aia.record/sessions", {
        res_model: "res.partner",
        res_id: partnerId + 1,
    });
    MockServer.env["bus.bus"]._sendone(`aia-record-res.partner_${partnerId}`, "aia.record/sessions", {
        res_model: "res.partner",
        res_id: partnerId,
    });
    await waitFor(".o_aia_sessions_count:contains(2)");
    expect.verifySteps([`load res.partner ${partnerId}`]);
    expect(queryAllTexts(".o_aia_sessions_state")).toEqual(["Running", "Done"]);
});

test("opens my sessions in the chat, others' in their form, and all of them in a list", async () => {
    const partnerId = await openPartner();
    mockSessions(partnerId, {
        total: 3,
        can_view_all: true,
        sessions: [row(9, {is_mine: true, can_open: true}), row(8, {can_open: true}), row(7)],
    });
    mockService("action", {
        doAction(action, options) {
            if (action === "ai_core.aia_chat_action") {
                expect.step(`chat ${options.additionalContext.active_id}`);
                return;
            }
            if (action?.res_model === "aia.session") {
                expect.step(`${action.views[0][1]} ${action.res_id || JSON.stringify(action.domain)}`);
                return;
            }
            return super.doAction(...arguments);
        },
    });
    await start();
    await openFormView("res.partner", partnerId);
    await waitFor(".o_aia_sessions_row");
    await contains(".o_aia_sessions_row[data-session-id='9']").click();
    await contains(".o_aia_sessions_row[data-session-id='8']").click();
    await contains(".o_aia_sessions_row[data-session-id='7']").click();
    await contains(".o_aia_sessions_view_all").click();
    expect.verifySteps([
        "chat 9",
        "form 8",
        `list [["res_model","=","res.partner"],["res_id","=",${partnerId}]]`,
    ]);
    expect(".o_aia_sessions_row[data-session-id='7']").not.toHaveClass("cursor-pointer");
});
