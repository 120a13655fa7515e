import {
    Component,
    markup,
    onMounted,
    onPatched,
    onWillDestroy,
    onWillStart,
    useRef,
    useState,
} from "@odoo/owl";
import {browser} from "@web/core/browser/browser";
import {deserializeDateTime, formatDateTime} from "@web/core/l10n/dates";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {Layout} from "@web/search/layout";
import {standardActionServiceProps} from "@web/webclient/actions/action_service";
import {sessionStateClass, sessionStateLabel} from "@ai_core/session_state";

/** A session as aia.session.chat_data() returns it before its first turn is saved. */
export function emptyChatData(id, name, agent, state) {
    return {
        id,
        name,
        state,
        agent: {id: agent.id, name: agent.name, code: agent.code},
        error_message: "",
        error_code: "",
        total_tokens: 0,
        total_cost: 0,
        messages: [],
        executions: [],
        approvals: [],
        // Calls whose result comes from work elsewhere (a delegated agent's session), by call id:
        // {reason, session_id, session_name, session_state}. Filled by the addons that defer.
        deferred: {},
    };
}

/** Notification type the server uses to stream a turn's events to the session owner. */
export const BUS_TYPE = "aia.session/events";

// A turn's last events are pushed just before the job commits: a reload right after them may still
// read the session as running, so it is retried a few times.
const RELOAD_RETRIES = 5;
const RELOAD_DELAY = 400;
// A running turn silent for this long is read again from the server (events may have been lost).
const STALE_DELAY = 15000;

const STATUS_LABELS = {
    running: _t("Running"),
    ok: _t("OK"),
    error: _t("Error"),
    timeout: _t("Timeout"),
    denied: _t("Denied"),
    shadowed: _t("Shadow"),
    approval: _t("Needs approval"),
    deferred: _t("Delegated"),
};
const STATUS_CLASSES = {
    running: "text-bg-light",
    ok: "text-bg-success",
    error: "text-bg-danger",
    timeout: "text-bg-danger",
    denied: "text-bg-warning",
    shadowed: "text-bg-info",
    approval: "text-bg-warning",
    deferred: "text-bg-info",
};
const APPROVAL_LABELS = {
    approved: _t("Approved"),
    rejected: _t("Rejected"),
    cancelled: _t("Cancelled"),
};

/** Pretty JSON for the arguments of a tool call. */
function formatArguments(args) {
    if (args === undefined || args === null || args === "") {
        return "";
    }
    if (typeof args === "string") {
        return args;
    }
    return JSON.stringify(args, null, 2);
}

/**
 * The "AI Agents > Chat" client action: pick an agent, chat, watch the turn stream in (text, tool
 * calls, shadowed writes, approvals), stop it. All decisions stay on the server: this only calls
 * aia.session / aia.approval methods and renders what they return or push over the bus.
 */

/** A person's words for an engine error code (``ai_engine`` errors and budget stops). */
export function errorSummary(code) {
    if (code.startsWith("budget_")) {
        return _t("The agent stopped at one of its limits.");
    }
    const summaries = {
        provider_unavailable: _t(
            "The AI service is unavailable or overloaded right now. Try again in a few minutes."
        ),
        provider_server_error: _t(
            "The AI service is unavailable or overloaded right now. Try again in a few minutes."
        ),
        provider_connection: _t("The AI service could not be reached. Try again in a few minutes."),
        provider_rate_limited: _t("The AI service is receiving too many requests. Try again in a minute."),
        provider_stream_interrupted: _t("The answer was cut off. Send your message again to retry."),
        provider_auth: _t(
            "The AI service refused this installation's credentials: retrying will not help, an administrator must check the provider's settings."
        ),
        provider_bad_request: _t(
            "The AI service refused the request: retrying the same message will not help, rephrase it or tell an administrator."
        ),
        knowledge_unavailable: _t(
            "The knowledge bases could not be searched: this answer does not use them."
        ),
        summary_unavailable: _t(
            "The earlier messages could not be summarized: this answer sees only the recent ones."
        ),
    };
    return summaries[code] || _t("The agent could not finish.");
}

export class AiaChatAction extends Component {
    static template = "ai_core.ChatAction";
    static components = {Layout};
    static props = {...standardActionServiceProps};

    setup() {
        this.orm = useService("orm");
        this.busService = useService("bus_service");
        this.actionService = useService("action");
        this.notification = useService("notification");
        this.transcriptRef = useRef("transcript");
        this.composerRef = useRef("composer");
        this.state = useState({
            enabled: true,
            agents: [],
            sessions: [],
            agentCode: "",
            session: null,
            // The turn streaming now: ordered text and tool segments, and its error if any.
            live: null,
            // Results streamed for tool cards already in the transcript (a resumed approval).
            liveResults: {},
            pendingText: "",
            draft: "",
            busy: false,
            rejectReasons: {},
        });
        // Events received while start() is in flight, before the new session's id is known.
        this.startBuffer = null;
        this.loadSequence = 0;
        this.stickToBottom = true;
        this.lastEventAt = Date.now();

        this.onBusEvents = this.onBusEvents.bind(this);
        this.onReconnect = this.onReconnect.bind(this);
        this.busService.subscribe(BUS_TYPE, this.onBusEvents);
        this.busService.addEventListener("BUS:RECONNECT", this.onReconnect);
        this.busService.start();

        onWillStart(async () => {
            await this.loadBootstrap();
            const sessionId = this.props.resId || this.props.action.context?.active_id;
            if (sessionId) {
                await this.loadSession(sessionId);
            }
        });
        onMounted(() => {
            this.scrollToBottom();
            this.staleInterval = browser.setInterval(() => this.checkStale(), STALE_DELAY / 3);
        });
        onPatched(() => {
            if (this.stickToBottom) {
                this.scrollToBottom();
            }
        });
        onWillDestroy(() => {
            this.busService.unsubscribe(BUS_TYPE, this.onBusEvents);
            this.busService.removeEventListener("BUS:RECONNECT", this.onReconnect);
            clearTimeout(this.reloadTimeout);
            browser.clearInterval(this.staleInterval);
        });
    }

    // -------------------------------------------------------------------------
    // Getters used by the template
    // -------------------------------------------------------------------------

    get selectedAgent() {
        return this.state.agents.find((agent) => agent.code === this.state.agentCode);
    }

    get isRunning() {
        // A session waiting for delegated work is still busy with its turn.
        return Boolean(this.state.live) || ["running", "waiting_tool"].includes(this.state.session?.state);
    }

    get canSend() {
        return (
            this.state.enabled &&
            !this.state.busy &&
            !this.isRunning &&
            this.state.session?.state !== "waiting_approval" &&
            Boolean(this.state.draft.trim()) &&
            Boolean(this.state.session || this.state.agentCode)
        );
    }

    get errorMessage() {
        const session = this.state.session;
        if (this.state.live?.error) {
            return this.state.live.error;
        }
        if (session?.state === "error") {
            return session.error_message || _t("The agent stopped with an error.");
        }
        return "";
    }

    /** What failed, for a person: whether to retry; the error message is the detail. */
    get errorSummary() {
        const code = this.state.live?.error ? this.state.live.errorCode : this.state.session?.error_code;
        return errorSummary(code || "");
    }

    /** The saved transcript as bubbles; tool results are shown as cards under their call. */
    get transcript() {
        const session = this.state.session;
        if (!session) {
            return [];
        }
        const executions = Object.fromEntries(session.executions.map((e) => [e.call_id, e]));
        const approvals = Object.fromEntries(session.approvals.map((a) => [a.call_id, a]));
        const deferred = session.deferred || {};
        const items = [];
        for (const message of session.messages) {
            if (message.role === "tool") {
                continue;
            }
            const cards = (message.tool_calls || []).map((call) =>
                this.savedCard(call, executions[call.id], approvals[call.id], deferred[call.id])
            );
            items.push({
                id: message.id,
                role: message.role,
                text: message.text,
                // Rendered and sanitized by the server (ai_core.rendering); user text stays text.
                html: message.html ? markup(message.html) : "",
                cards,
                citations: (message.citations || []).map((citation) => ({
                    ...citation,
                    label: `[${citation.n}] ${citation.document_name}` + pagesLabel(citation),
                })),
                date: message.create_date,
            });
        }
        return items;
    }

    savedCard(call, execution, approval, deferred) {
        const streamed = this.state.liveResults[call.id];
        const result = streamed || execution;
        let status = result?.status;
        if (!status) {
            status = approval?.state === "pending" ? "approval" : deferred ? "deferred" : "running";
        }
        return {
            callId: call.id,
            name: result?.name || approval?.name || call.name,
            arguments: result?.arguments || approval?.arguments,
            status,
            content: result?.content || "",
            preview: result?.preview || approval?.preview || "",
            latencyMs: result?.latency_ms,
            approval: approval || null,
            deferred: deferred || null,
        };
    }

    stateLabel(state) {
        return sessionStateLabel(state);
    }

    stateClass(state) {
        return sessionStateClass(state);
    }

    statusLabel(status) {
        return STATUS_LABELS[status] || status;
    }

    statusClass(status) {
        return STATUS_CLASSES[status] || "text-bg-light";
    }

    approvalLabel(state) {
        return APPROVAL_LABELS[state] || state;
    }

    formatArguments(args) {
        return formatArguments(args);
    }

    async copy(text) {
        await browser.navigator.clipboard.writeText(text);
        this.notification.add(_t("Copied."), {type: "success"});
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    formatCost(value) {
        return (value || 0).toFixed(4);
    }

    // -------------------------------------------------------------------------
    // Server calls
    // -------------------------------------------------------------------------

    async loadBootstrap() {
        const data = await this.orm.call("aia.session", "chat_bootstrap", []);
        this.state.enabled = data.enabled;
        this.state.agents = data.agents;
        this.state.sessions = data.sessions;
        if (!this.selectedAgent) {
            this.state.agentCode = data.agents[0]?.code || "";
        }
    }

    /**
     * Read the session from the server.
     *
     * - "open": show it, whatever its state;
     * - "settle": the turn ended (done, cancelled): retry while the server still reports it as
     *   running, then end the live bubble;
     * - "check": a safety net for missed events: apply only once the turn is over.
     */
    async loadSession(sessionId, mode = "open") {
        const sequence = ++this.loadSequence;
        clearTimeout(this.reloadTimeout);
        for (let attempt = 0; ; attempt++) {
            const data = await this.orm.call("aia.session", "chat_data", [[sessionId]]);
            if (sequence !== this.loadSequence) {
                return; // a newer load, or another session, took over
            }
            if (data.state === "running" && mode === "check") {
                return;
            }
            if (data.state !== "running" || mode === "open" || attempt >= RELOAD_RETRIES) {
                this.applySession(data, {endLive: mode !== "open"});
                return;
            }
            await new Promise((resolve) => {
                this.reloadTimeout = setTimeout(resolve, RELOAD_DELAY);
            });
            if (sequence !== this.loadSequence) {
                return;
            }
        }
    }

    applySession(data, {endLive = false} = {}) {
        const opened = this.state.session?.id !== data.id;
        this.state.session = data;
        this.state.agentCode = data.agent.code;
        this.state.pendingText = "";
        if (endLive || opened) {
            this.state.live = null;
            this.state.liveResults = {};
        }
        const row = this.state.sessions.find((s) => s.id === data.id);
        if (row) {
            Object.assign(row, {name: data.name, state: data.state});
        }
        if (opened) {
            this.stickToBottom = true;
            this.props.updateActionState?.({resId: data.id});
        }
    }

    /** Reload the session when a running turn has been silent for a while (missed events). */
    checkStale() {
        const session = this.state.session;
        if (session && this.isRunning && Date.now() - this.lastEventAt > STALE_DELAY) {
            this.lastEventAt = Date.now();
            this.loadSession(session.id, "check");
        }
    }

    async onSend() {
        if (!this.canSend) {
            return;
        }
        const text = this.state.draft.trim();
        const session = this.state.session;
        this.state.busy = true;
        this.state.pendingText = text;
        this.state.draft = "";
        this.state.live = {segments: [], error: ""};
        this.lastEventAt = Date.now();
        this.stickToBottom = true;
        try {
            if (session) {
                session.state = "running";
                await this.orm.call("aia.session", "post_message", [[session.id], text]);
            } else {
                await this.startSession(text);
            }
        } catch (error) {
            this.startBuffer = null;
            this.state.live = null;
            this.state.pendingText = "";
            this.state.draft = text;
            if (session) {
                await this.loadSession(session.id);
            }
            throw error;
        } finally {
            this.state.busy = false;
        }
    }

    async startSession(text) {
        const agent = this.selectedAgent;
        this.startBuffer = [];
        const sessionId = await this.orm.call("aia.session", "start", [agent.code, text]);
        const buffered = this.startBuffer;
        this.startBuffer = null;
        const name = text.slice(0, 60);
        this.state.sessions.unshift({
            id: sessionId,
            name,
            state: "running",
            agent_name: agent.name,
            write_date: false,
        });
        // The saved transcript arrives with the reload that ends the turn.
        this.state.session = emptyChatData(sessionId, name, agent, "running");
        this.props.updateActionState?.({resId: sessionId});
        for (const payload of buffered) {
            if (payload.session_id === sessionId) {
                this.applyEvents(payload.events);
            }
        }
    }

    async onStop() {
        const session = this.state.session;
        if (!session) {
            return;
        }
        this.state.busy = true;
        try {
            await this.orm.call("aia.session", "action_cancel", [[session.id]]);
        } finally {
            this.state.busy = false;
        }
        await this.loadSession(session.id, "settle");
    }

    async onApprove(approval) {
        await this.decide(approval, "action_approve", [], "approved");
    }

    async onReject(approval) {
        const reason = (this.state.rejectReasons[approval.id] || "").trim();
        await this.decide(approval, "action_reject", [reason || false], "rejected");
    }

    onReasonInput(approval, ev) {
        this.state.rejectReasons[approval.id] = ev.target.value;
    }

    async decide(approval, method, args, newState) {
        this.state.busy = true;
        try {
            await this.orm.call("aia.approval", method, [[approval.id], ...args]);
        } finally {
            this.state.busy = false;
        }
        // The turn resumes in a job: what follows streams in.
        approval.state = newState;
        this.state.session.state = "running";
        this.state.live = {segments: [], error: ""};
        this.lastEventAt = Date.now();
    }

    // -------------------------------------------------------------------------
    // Navigation
    // -------------------------------------------------------------------------

    onNewChat() {
        this.loadSequence++;
        this.state.session = null;
        this.state.live = null;
        this.state.liveResults = {};
        this.state.pendingText = "";
        this.props.updateActionState?.({resId: false});
        this.focusComposer();
    }

    async onOpenSession(sessionId) {
        if (this.state.session?.id === sessionId) {
            return;
        }
        await this.loadSession(sessionId);
        this.focusComposer();
    }

    /** Open what a deferred call waits for: a delegated session here, any other record in its form. */
    async onOpenDeferred(deferred) {
        if (deferred.session_id) {
            return this.onOpenSession(deferred.session_id);
        }
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: deferred.res_model,
            res_id: deferred.res_id,
            views: [[false, "form"]],
        });
    }

    onAgentChange(ev) {
        this.state.agentCode = ev.target.value;
    }

    onComposerKeydown(ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            this.onSend();
        }
    }

    onTranscriptScroll() {
        const el = this.transcriptRef.el;
        if (el) {
            this.stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }
    }

    scrollToBottom() {
        const el = this.transcriptRef.el;
        if (el) {
            el.scrollTop = el.scrollHeight;
        }
    }

    focusComposer() {
        this.composerRef.el?.focus();
    }

    // -------------------------------------------------------------------------
    // Streaming
    // -------------------------------------------------------------------------

    onBusEvents(payload) {
        const session = this.state.session;
        if (session && payload.session_id === session.id) {
            this.lastEventAt = Date.now();
            this.applyEvents(payload.events);
            return;
        }
        if (this.startBuffer) {
            this.startBuffer.push(payload);
            return;
        }
        // Another of my sessions, e.g. still running in the background: keep its row current.
        const row = this.state.sessions.find((s) => s.id === payload.session_id);
        if (row && payload.events.some((e) => e.type === "done" || e.type === "state")) {
            this.loadBootstrap();
        }
    }

    onReconnect() {
        // Events may have been missed while offline: the server's copy is the truth.
        if (this.state.session) {
            this.loadSession(this.state.session.id, this.isRunning ? "check" : "open");
        }
    }

    applyEvents(events) {
        const session = this.state.session;
        let finished = false;
        for (const event of events) {
            if (event.type === "done" || event.type === "state") {
                finished = true;
            } else if (event.type === "usage") {
                session.total_tokens += event.total_tokens;
                session.total_cost += parseFloat(event.cost) || 0;
            } else {
                this.applyLiveEvent(event);
            }
        }
        if (finished) {
            this.loadSession(session.id, "settle");
        }
    }

    applyLiveEvent(event) {
        if (!this.state.live) {
            this.state.live = {segments: [], error: ""};
        }
        const live = this.state.live;
        const segments = live.segments;
        switch (event.type) {
            case "text_delta": {
                const last = segments.at(-1);
                if (last?.type === "text") {
                    last.text += event.text;
                } else {
                    segments.push({type: "text", key: `t${segments.length}`, text: event.text});
                }
                break;
            }
            case "tool_call":
                segments.push({
                    type: "tool",
                    key: event.call_id,
                    card: {
                        callId: event.call_id,
                        name: event.name,
                        arguments: event.arguments,
                        status: "running",
                        content: "",
                        preview: "",
                        latencyMs: undefined,
                        approval: null,
                        deferred: null,
                    },
                });
                break;
            case "would_execute":
            case "approval_required": {
                const card = this.liveCard(event);
                card.preview = event.preview;
                if (event.type === "approval_required") {
                    card.status = "approval";
                }
                break;
            }
            case "tool_deferred": {
                const card = this.liveCard(event);
                card.status = "deferred";
                card.deferred = {
                    reason: event.reason,
                    session_id: event.ref?.session_id,
                    res_model: event.ref?.res_model,
                    res_id: event.ref?.res_id,
                };
                break;
            }
            case "tool_result": {
                const inLive = segments.some((s) => s.type === "tool" && s.card.callId === event.call_id);
                if (!inLive && this.isSavedCall(event.call_id)) {
                    this.state.liveResults[event.call_id] = event;
                    break;
                }
                const card = this.liveCard(event);
                Object.assign(card, {
                    status: event.status,
                    content: event.content,
                    latencyMs: event.latency_ms,
                });
                if (event.arguments && Object.keys(event.arguments).length) {
                    card.arguments = event.arguments;
                }
                break;
            }
            case "error":
                live.error = event.message || _t("The agent stopped with an error.");
                live.errorCode = event.code;
                break;
        }
    }

    /** The live card of a call, created when its tool_call event was missed. */
    liveCard(event) {
        const segments = this.state.live.segments;
        let segment = segments.find((s) => s.type === "tool" && s.card.callId === event.call_id);
        if (!segment) {
            this.applyLiveEvent({...event, type: "tool_call"});
            segment = segments.at(-1);
        }
        return segment.card;
    }

    isSavedCall(callId) {
        return (this.state.session?.messages || []).some((m) =>
            (m.tool_calls || []).some((call) => call.id === callId)
        );
    }
}

registry.category("actions").add("aia_chat", AiaChatAction);

/** ", p. 4" or ", pp. 4–5" (a passage's text runs over two pages), empty outside PDFs. */
function pagesLabel(citation) {
    if (!citation.page) {
        return "";
    }
    return citation.page_end > citation.page
        ? `, pp. ${citation.page}–${citation.page_end}`
        : `, p. ${citation.page}`;
}
