import {Component, onWillDestroy, onWillStart, onWillUpdateProps, useState} from "@odoo/owl";
import {deserializeDateTime, formatDateTime} from "@web/core/l10n/dates";
import {_t} from "@web/core/l10n/translation";
import {useService} from "@web/core/utils/hooks";
import {sessionStateClass, sessionStateLabel} from "@ai_core/session_state";

/** Notification type the server sends on a record's channel when its linked sessions change. */
export const RECORD_BUS_TYPE = "aia.record/sessions";

/** The bus channel of a record's sessions; the server lets only users who read the record in. */
export function recordChannel(resModel, resId) {
    return `aia-record-${resModel}_${resId}`;
}

// Boxes following each channel: the chatter may mount a new box before destroying the old one,
// and the channel must stay subscribed until the last box of the record is gone.
const channelUsers = new Map();

function retainChannel(busService, channel) {
    const users = (channelUsers.get(channel) || 0) + 1;
    channelUsers.set(channel, users);
    if (users === 1) {
        busService.addChannel(channel);
    }
}

function releaseChannel(busService, channel) {
    const users = (channelUsers.get(channel) || 1) - 1;
    if (users > 0) {
        channelUsers.set(channel, users);
        return;
    }
    channelUsers.delete(channel);
    busService.deleteChannel(channel);
}

/**
 * "AI Sessions" box of the chatter: the agent sessions linked to the record, newest first, live.
 * What may be listed and opened is decided by aia.session.aia_record_sessions on the server.
 */
export class AiaSessionsBox extends Component {
    static template = "ai_automation.SessionsBox";
    static props = {
        threadModel: String,
        threadId: {type: [Number, Boolean], optional: true},
    };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.busService = useService("bus_service");
        this.state = useState({total: 0, sessions: [], canViewAll: false, open: true});
        this.channel = null;
        this.loadSequence = 0;
        this.onRecordNotification = this.onRecordNotification.bind(this);
        this.busService.subscribe(RECORD_BUS_TYPE, this.onRecordNotification);
        onWillStart(() => this.follow(this.props));
        onWillUpdateProps((next) => {
            if (next.threadModel !== this.props.threadModel || next.threadId !== this.props.threadId) {
                return this.follow(next);
            }
        });
        onWillDestroy(() => {
            this.busService.unsubscribe(RECORD_BUS_TYPE, this.onRecordNotification);
            if (this.channel) {
                releaseChannel(this.busService, this.channel);
            }
        });
    }

    /** Listen to the record's channel and load its sessions. */
    async follow({threadModel, threadId}) {
        if (this.channel) {
            releaseChannel(this.busService, this.channel);
            this.channel = null;
        }
        if (threadId) {
            this.channel = recordChannel(threadModel, threadId);
            retainChannel(this.busService, this.channel);
        }
        await this.load(threadModel, threadId);
    }

    async load(threadModel = this.props.threadModel, threadId = this.props.threadId) {
        const sequence = ++this.loadSequence;
        if (!threadId) {
            Object.assign(this.state, {total: 0, sessions: [], canViewAll: false});
            return;
        }
        const data = await this.orm.silent.call("aia.session", "aia_record_sessions", [
            threadModel,
            threadId,
        ]);
        if (sequence !== this.loadSequence) {
            return; // the chatter moved to another record meanwhile
        }
        Object.assign(this.state, {
            total: data.total,
            sessions: data.sessions,
            canViewAll: data.can_view_all,
        });
    }

    onRecordNotification(payload) {
        if (payload.res_model === this.props.threadModel && payload.res_id === this.props.threadId) {
            this.load();
        }
    }

    toggle() {
        this.state.open = !this.state.open;
    }

    stateLabel(session) {
        return sessionStateLabel(session.state);
    }

    stateClass(session) {
        return sessionStateClass(session.state);
    }

    formatDate(session) {
        return session.date ? formatDateTime(deserializeDateTime(session.date)) : "";
    }

    /** My sessions open in the live chat; operators open the others' in the session form. */
    openSession(session) {
        if (!session.can_open) {
            return;
        }
        if (session.is_mine) {
            return this.actionService.doAction("ai_core.aia_chat_action", {
                additionalContext: {active_id: session.id},
            });
        }
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "aia.session",
            res_id: session.id,
            views: [[false, "form"]],
        });
    }

    viewAll() {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name: _t("AI Sessions"),
            res_model: "aia.session",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: [
                ["res_model", "=", this.props.threadModel],
                ["res_id", "=", this.props.threadId],
            ],
            context: {create: false},
        });
    }
}
