import {Component, onWillDestroy, onWillStart, status, useEffect, useState} from "@odoo/owl";
import {deserializeDateTime, formatDateTime} from "@web/core/l10n/dates";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {standardWidgetProps} from "@web/views/widgets/standard_widget_props";

/** Notification type the server sends to the run's user on every change of a run. */
export const BUS_TYPE = "aia.workflow.run";
// A task's session says when its turn ended; the run says only what changed beyond that.
export const SESSION_BUS_TYPE = "aia.session/events";
const TURN_END_EVENTS = new Set(["done", "error"]);
// A task in these states may have a session the timeline has not read yet.
const STARTED_STATES = new Set(["queued", "running"]);

const KINDS = {
    plan: {label: _t("Plan"), icon: "fa-list-ol"},
    execute: {label: _t("Execute"), icon: "fa-cogs"},
    review: {label: _t("Review"), icon: "fa-search"},
    synthesize: {label: _t("Synthesize"), icon: "fa-file-text-o"},
    approval: {label: _t("Approval"), icon: "fa-gavel"},
};
const TASK_STATES = {
    pending: {label: _t("Pending"), class: "text-bg-light"},
    queued: {label: _t("Queued"), class: "text-bg-light"},
    running: {label: _t("Running"), class: "text-bg-info"},
    waiting: {label: _t("Waiting"), class: "text-bg-warning"},
    done: {label: _t("Done"), class: "text-bg-success"},
    error: {label: _t("Error"), class: "text-bg-danger"},
    cancelled: {label: _t("Cancelled"), class: "text-bg-secondary"},
};
const RUN_STATES = {
    draft: {label: _t("Draft"), class: "text-bg-light"},
    running: {label: _t("Running"), class: "text-bg-info"},
    waiting_approval: {label: _t("Waiting for approval"), class: "text-bg-warning"},
    done: {label: _t("Done"), class: "text-bg-success"},
    error: {label: _t("Error"), class: "text-bg-danger"},
    cancelled: {label: _t("Cancelled"), class: "text-bg-secondary"},
};

/**
 * The timeline of a workflow run, on the run's form (`<widget name="aia_run_timeline"/>`): its
 * tasks in order, what each spent, its output and session, and the decision an approval waits
 * for. It shows what aia.workflow.run.timeline_data() returns and reloads it when the server
 * says the run changed; every decision is the server's.
 */
export class AiaRunTimeline extends Component {
    static template = "ai_workflow.RunTimeline";
    static props = {...standardWidgetProps};

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.busService = useService("bus_service");
        this.state = useState({run: null, deciding: null});
        this.loadSequence = 0;

        this.onRunChanged = this.onRunChanged.bind(this);
        this.onSessionEvents = this.onSessionEvents.bind(this);
        this.onReconnect = this.onReconnect.bind(this);
        this.busService.subscribe(BUS_TYPE, this.onRunChanged);
        this.busService.subscribe(SESSION_BUS_TYPE, this.onSessionEvents);
        this.busService.addEventListener("BUS:RECONNECT", this.onReconnect);
        this.busService.start();
        onWillDestroy(() => {
            this.busService.unsubscribe(BUS_TYPE, this.onRunChanged);
            this.busService.unsubscribe(SESSION_BUS_TYPE, this.onSessionEvents);
            this.busService.removeEventListener("BUS:RECONNECT", this.onReconnect);
        });

        onWillStart(() => this.load());
        // Another run (pager), the run just saved, or its state changed by a header button.
        useEffect(
            (resId, runState) => {
                if (resId !== this.state.run?.id || runState !== this.state.run?.state) {
                    this.load();
                }
            },
            () => [this.props.record.resId, this.props.record.data.state]
        );
    }

    // -------------------------------------------------------------------------
    // Getters used by the template
    // -------------------------------------------------------------------------

    get run() {
        const run = this.state.run;
        return run && run.id === this.props.record.resId ? run : null;
    }

    kindLabel(kind) {
        return KINDS[kind]?.label || kind;
    }

    kindIcon(kind) {
        return KINDS[kind]?.icon || "fa-circle-o";
    }

    taskStateLabel(state) {
        return TASK_STATES[state]?.label || state;
    }

    taskStateClass(state) {
        return TASK_STATES[state]?.class || "text-bg-light";
    }

    runStateLabel(state) {
        return RUN_STATES[state]?.label || state;
    }

    runStateClass(state) {
        return RUN_STATES[state]?.class || "text-bg-light";
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    /** A cost with the digits of the run's and the session's cost fields. */
    formatCost(value) {
        return (value || 0).toFixed(6);
    }

    sessionUrl(task) {
        return `/odoo/aia.session/${task.session_id}`;
    }

    // -------------------------------------------------------------------------
    // Server calls
    // -------------------------------------------------------------------------

    /** Read the run's timeline; a later call wins over an earlier one still in flight. */
    async load() {
        const resId = this.props.record.resId;
        const sequence = ++this.loadSequence;
        if (!resId) {
            this.state.run = null;
            return;
        }
        const data = await this.orm.call("aia.workflow.run", "timeline_data", [[resId]]);
        if (sequence === this.loadSequence && status(this) !== "destroyed") {
            this.state.run = data;
        }
    }

    /** Reload the timeline, then the form when the run's state moved (its header buttons). */
    async refresh() {
        await this.load();
        const record = this.props.record;
        const run = this.run;
        if (run && run.state !== record.data.state && !(await record.isDirty())) {
            await record.load();
        }
    }

    onRunChanged(payload) {
        if (this.props.record.resId && payload.run_id === this.props.record.resId) {
            this.refresh();
        }
    }

    /**
     * The turn of one of the run's tasks ended: its task ended with it (the same commit), and
     * the run went on. A task shown queued or running without its session yet started since
     * the timeline was read: the turn that ended may be its.
     */
    onSessionEvents(payload) {
        const run = this.run;
        if (!run || !payload.events.some((event) => TURN_END_EVENTS.has(event.type))) {
            return;
        }
        const ofItsTask = run.tasks.some((task) => task.session_id === payload.session_id);
        const startedSince = run.tasks.some((task) => !task.session_id && STARTED_STATES.has(task.state));
        if (ofItsTask || startedSince) {
            this.refresh();
        }
    }

    onReconnect() {
        // Notifications may have been missed while the connection was down.
        if (this.props.record.resId) {
            this.refresh();
        }
    }

    async decide(task, method) {
        this.state.deciding = task.id;
        try {
            await this.orm.call("aia.workflow.task", method, [[task.id]]);
        } finally {
            this.state.deciding = null;
            await this.refresh();
        }
    }

    onApprove(task) {
        return this.decide(task, "action_approve");
    }

    onReject(task) {
        return this.decide(task, "action_reject");
    }

    openSession(task) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "aia.session",
            res_id: task.session_id,
            views: [[false, "form"]],
        });
    }
}

export const aiaRunTimeline = {
    component: AiaRunTimeline,
};

registry.category("view_widgets").add("aia_run_timeline", aiaRunTimeline);
