import {defineMailModels} from "@mail/../tests/mail_test_helpers";
import {describe, expect, test} from "@odoo/hoot";
import {queryAll, queryAllTexts, queryOne, waitFor} from "@odoo/hoot-dom";
import {animationFrame, mockTimeZone} from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    fields,
    getService,
    models,
    MockServer,
    mountView,
    mountWebClient,
    onRpc,
    serverState,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");

const RUN_STATES = [
    ["draft", "Draft"],
    ["running", "Running"],
    ["waiting_approval", "Waiting for approval"],
    ["done", "Done"],
    ["error", "Error"],
    ["cancelled", "Cancelled"],
];

class AiaWorkflowRun extends models.Model {
    _name = "aia.workflow.run";

    name = fields.Char();
    state = fields.Selection({selection: RUN_STATES, default: "draft"});

    _records = [
        {id: 1, name: "Quarter close: check the ledger", state: "running"},
        {id: 2, name: "Stock count: chairs", state: "running"},
        {id: 3, name: "Supplier payment run", state: "waiting_approval"},
    ];
    _views = {
        form: /* xml */ `
            <form>
                <header><field name="state" widget="statusbar"/></header>
                <field name="name"/>
                <widget name="aia_run_timeline"/>
            </form>`,
    };
}

class AiaSession extends models.Model {
    _name = "aia.session";

    name = fields.Char();

    _records = [{id: 5, name: "Session of the ledger check"}];
    _views = {form: `<form><field name="name"/></form>`};
}

defineMailModels();
defineModels([AiaWorkflowRun, AiaSession]);

/** A task as aia.workflow.task._aia_to_client() returns it. */
function task(values) {
    return {
        name: "",
        kind: "execute",
        state: "pending",
        agent: "",
        approver: "",
        can_decide: false,
        session_id: false,
        output: "",
        error: "",
        total_tokens: 0,
        total_cost: 0,
        date_started: false,
        date_ended: false,
        ...values,
    };
}

/** What aia.workflow.run.timeline_data() returns for run 1. */
function timeline(values) {
    return {
        id: 1,
        name: "Quarter close: check the ledger",
        state: "running",
        error: "",
        total_tokens: 0,
        total_cost: 0,
        tasks: [],
        ...values,
    };
}

const PLAN = task({
    id: 11,
    name: "Plan the check",
    kind: "plan",
    state: "done",
    agent: "Planner",
    session_id: 5,
    output: '{"steps": []}',
    total_tokens: 1200,
    total_cost: 0.0123,
    date_started: "2026-03-02 09:00:00",
    date_ended: "2026-03-02 09:01:30",
});
const EXECUTE = task({
    id: 12,
    name: "Read the ledger",
    kind: "execute",
    state: "running",
    agent: "Finance",
    session_id: 6,
    total_tokens: 300,
    total_cost: 0.002,
    date_started: "2026-03-02 09:01:31",
});

/** The server's side of a run's change: a bus.bus notification to the run's user's partner. */
function notifyRun(runId, state) {
    MockServer.env["bus.bus"]._sendone(serverState.partnerId, "aia.workflow.run", {
        run_id: runId,
        state,
    });
}

/** The server's side of a turn's events: a bus.bus notification to the session's user's partner. */
function notifySession(sessionId, ...types) {
    MockServer.env["bus.bus"]._sendone(serverState.partnerId, "aia.session/events", {
        session_id: sessionId,
        events: types.map((type) => ({type})),
    });
}

/** Serve ``data()`` as run 1's timeline, with a step for each call. */
function mockTimeline(data) {
    onRpc("aia.workflow.run", "timeline_data", ({args}) => {
        expect.step(`timeline_data ${args[0]}`);
        return data();
    });
}

async function mountRunForm(resId = 1) {
    await mountView({type: "form", resModel: "aia.workflow.run", resId});
    await waitFor(".o_aia_run_timeline");
}

test("shows the run's tasks in order with their kind, state, agent and totals", async () => {
    mockTimeZone(0);
    const review = task({
        id: 13,
        name: "Check the figures",
        kind: "review",
        state: "pending",
        agent: "Auditor",
    });
    const failed = task({
        id: 14,
        name: "Write the summary",
        kind: "synthesize",
        state: "error",
        agent: "Writer",
        error: "The provider is overloaded.",
    });
    const approval = task({
        id: 15,
        name: "Controller signs off",
        kind: "approval",
        state: "waiting",
        approver: "Marc Demo",
    });
    mockTimeline(() =>
        timeline({total_tokens: 1500, total_cost: 0.0143, tasks: [PLAN, EXECUTE, review, failed, approval]})
    );
    await mountRunForm();
    expect.verifySteps(["timeline_data 1"]);

    expect(".o_aia_run_state").toHaveText("Running");
    expect(".o_aia_run_totals").toHaveText("1500 tokens · cost 0.014300");
    expect(queryAll(".o_aia_task").map((el) => el.dataset.taskId)).toEqual(["11", "12", "13", "14", "15"]);
    expect(queryAllTexts(".o_aia_task_kind")).toEqual([
        "Plan",
        "Execute",
        "Review",
        "Synthesize",
        "Approval",
    ]);
    expect(queryAllTexts(".o_aia_task_name")).toEqual([
        "Plan the check",
        "Read the ledger",
        "Check the figures",
        "Write the summary",
        "Controller signs off",
    ]);
    expect(queryAllTexts(".o_aia_task_state")).toEqual(["Done", "Running", "Pending", "Error", "Waiting"]);
    expect(queryAllTexts(".o_aia_task_agent")).toEqual(["Planner", "Finance", "Auditor", "Writer"]);
    expect(".o_aia_task[data-kind=approval] .o_aia_task_approver").toHaveText("Approver: Marc Demo");
    expect(".o_aia_task[data-kind=approval] .o_aia_task_marker i").toHaveClass("fa-gavel");
    expect(".o_aia_task[data-task-id='11'] .o_aia_task_totals").toHaveText("1200 tokens · cost 0.012300");
    expect(".o_aia_task[data-task-id='11'] .o_aia_task_started").toHaveText("Started 03/02/2026 09:00:00");
    expect(".o_aia_task[data-task-id='11'] .o_aia_task_ended").toHaveText("Ended 03/02/2026 09:01:30");
    expect(".o_aia_task[data-task-id='12'] .o_aia_task_ended").toHaveCount(0);
    expect(".o_aia_task[data-task-id='14'] .o_aia_task_error").toHaveText("The provider is overloaded.");
    // Only tasks with a session link to one; someone else decides on the approval.
    expect(".o_aia_task_session").toHaveCount(2);
    expect(".o_aia_task_waiting").toHaveText("Waits for the decision of Marc Demo.");
    expect(".o_aia_task_approve").toHaveCount(0);
    // The output is folded until asked for.
    expect(".o_aia_task_output").toHaveCount(1);
    expect(".o_aia_task_output").not.toHaveAttribute("open");
    await contains(".o_aia_task_output summary").click();
    expect(".o_aia_task_output_text").toBeVisible();
    expect(".o_aia_task_output_text").toHaveText('{"steps": []}');
});

test("a task's output is shown as text, never as HTML", async () => {
    const output =
        'Done. <img src=x onerror="window.__aiaPwned = 1"> See ' +
        '<a href="javascript:window.__aiaPwned = 2">the report</a> or [this](javascript:alert(1)).';
    mockTimeline(() => timeline({tasks: [{...PLAN, output, error: '<b onmouseover="x()">bold</b>'}]}));
    await mountRunForm();
    expect.verifySteps(["timeline_data 1"]);
    await contains(".o_aia_task_output summary").click();

    expect(".o_aia_task_output_text").toHaveText(output);
    expect(".o_aia_run_timeline img").toHaveCount(0);
    expect(".o_aia_run_timeline b").toHaveCount(0);
    expect(".o_aia_run_timeline a[href^='javascript']").toHaveCount(0);
    expect(queryOne(".o_aia_task_output_text").children).toHaveLength(0);
    expect(".o_aia_task_error").toHaveText('<b onmouseover="x()">bold</b>');
    await animationFrame();
    expect(window.__aiaPwned).toBe(undefined);
});

test("a notification for its run reloads the timeline, one for another run does not", async () => {
    let data = timeline({tasks: [PLAN]});
    mockTimeline(() => data);
    onRpc("aia.workflow.run", "web_read", ({args}) => {
        expect.step(`web_read ${args[0]}`);
    });
    await mountRunForm();
    expect.verifySteps(["web_read 1", "timeline_data 1"]);
    expect(".o_aia_task").toHaveCount(1);

    data = timeline({tasks: [PLAN, EXECUTE], total_tokens: 1500, total_cost: 0.0143});
    // Another run of the same user changed: this form has nothing to read. Then this run did,
    // in the same state: its timeline is read again, not the form.
    notifyRun(2, "done");
    notifyRun(1, "running");
    await waitFor(".o_aia_task[data-task-id='12']");
    expect.verifySteps(["timeline_data 1"]);
    expect(".o_aia_task[data-task-id='12'] .o_aia_task_name").toHaveText("Read the ledger");
    expect(".o_aia_run_totals").toHaveText("1500 tokens · cost 0.014300");

    // The run is waiting for a decision now: the form is read again, its header follows.
    MockServer.env["aia.workflow.run"].write([1], {state: "waiting_approval"});
    data = timeline({
        state: "waiting_approval",
        tasks: [
            PLAN,
            {...EXECUTE, state: "done"},
            task({id: 13, kind: "approval", name: "Sign off", state: "waiting"}),
        ],
    });
    notifyRun(1, "waiting_approval");
    await waitFor(".o_statusbar_status .o_arrow_button_current:contains(Waiting for approval)");
    expect.verifySteps(["timeline_data 1", "web_read 1"]);
    expect(".o_aia_task[data-task-id='13'] .o_aia_task_state").toHaveText("Waiting");
    expect(".o_aia_run_state").toHaveText("Waiting for approval");
});

test("the end of a task's turn reloads the timeline; other sessions and deltas do not", async () => {
    let data = timeline({tasks: [PLAN, EXECUTE]});
    mockTimeline(() => data);
    await mountRunForm();
    expect.verifySteps(["timeline_data 1"]);

    data = timeline({tasks: [PLAN, {...EXECUTE, state: "done", output: "Ledger read."}]});
    // Text streaming in the task's session, then a turn ending in a session of no task of this
    // run: nothing to read. Then the task's turn ends: its task ended in the same commit.
    notifySession(6, "text_delta");
    notifySession(99, "done");
    notifySession(6, "usage", "done");
    await waitFor(".o_aia_task[data-task-id='12'] .o_aia_task_state:contains(Done)");
    expect.verifySteps(["timeline_data 1"]);
});

test("a turn's end in a session the timeline has not read reloads it while a task is queued", async () => {
    const queued = task({id: 13, name: "Read the stock", state: "queued", agent: "Stock"});
    let data = timeline({tasks: [PLAN, {...EXECUTE, state: "done"}, queued]});
    mockTimeline(() => data);
    await mountRunForm();
    expect.verifySteps(["timeline_data 1"]);

    // The queued task's session (7) started after the timeline was read: its turn's end is
    // the first the timeline hears of it.
    data = timeline({
        state: "done",
        tasks: [PLAN, {...EXECUTE, state: "done"}, {...queued, state: "done", session_id: 7}],
    });
    notifySession(7, "text_delta");
    notifySession(7, "done");
    await waitFor(".o_aia_task[data-task-id='13'] .o_aia_task_state:contains(Done)");
    expect.verifySteps(["timeline_data 1"]);

    // Every task has its session now: another session's end is none of this run's.
    notifySession(99, "done");
    await animationFrame();
    expect.verifySteps([]);
});

test("Approve on an approval task calls action_approve and reloads", async () => {
    const approval = task({
        id: 15,
        name: "Controller signs off",
        kind: "approval",
        state: "waiting",
        approver: "Mitchell Admin",
        can_decide: true,
    });
    const run = {id: 3, name: "Supplier payment run"};
    let data = timeline({...run, state: "waiting_approval", tasks: [PLAN, approval]});
    mockTimeline(() => data);
    onRpc("aia.workflow.task", "action_approve", ({args}) => {
        expect.step(`action_approve ${JSON.stringify(args[0])}`);
        MockServer.env["aia.workflow.run"].write([3], {state: "running"});
        data = timeline({
            ...run,
            tasks: [
                PLAN,
                {...approval, state: "done", can_decide: false, output: "Approved by Mitchell Admin"},
            ],
        });
        return true;
    });
    onRpc("aia.workflow.task", "action_reject", () => {
        throw new Error("the approval was rejected");
    });
    await mountRunForm(3);
    expect.verifySteps(["timeline_data 3"]);
    expect(".o_aia_run_state").toHaveText("Waiting for approval");
    expect(".o_aia_task_reject").toHaveCount(1);

    await contains(".o_aia_task_approve").click();
    // The run goes on: the timeline is read again, and the form, whose header follows.
    await waitFor(".o_statusbar_status .o_arrow_button_current:contains(Running)");
    expect.verifySteps(["action_approve [15]", "timeline_data 3"]);
    expect(".o_aia_task_approve").toHaveCount(0);
    expect(".o_aia_task[data-task-id='15'] .o_aia_task_state").toHaveText("Done");
    expect(".o_aia_run_state").toHaveText("Running");
});

test("the session link opens the task's session", async () => {
    mockTimeline(() => timeline({tasks: [PLAN]}));
    await mountWebClient();
    await getService("action").doAction({
        type: "ir.actions.act_window",
        res_model: "aia.workflow.run",
        res_id: 1,
        views: [[false, "form"]],
    });
    await waitFor(".o_aia_task_session");
    expect.verifySteps(["timeline_data 1"]);
    expect(".o_aia_task_session").toHaveAttribute("href", "/odoo/aia.session/5");

    await contains(".o_aia_task_session").click();
    await waitFor(".o_form_view .o_field_widget[name=name] input");
    expect(".o_field_widget[name=name] input").toHaveValue("Session of the ledger check");
    expect(".o_aia_run_timeline").toHaveCount(0);
    expect(".o_breadcrumb .o_back_button").toHaveText("Quarter close: check the ledger");
});

test("a new run shows no timeline until it is saved", async () => {
    onRpc("aia.workflow.run", "timeline_data", () => {
        throw new Error("a new run has no timeline");
    });
    await mountView({type: "form", resModel: "aia.workflow.run"});
    await waitFor(".o_aia_run_timeline");
    expect(".o_aia_timeline_empty").toHaveText(
        "The timeline shows the run's tasks once it is saved and started."
    );
});
