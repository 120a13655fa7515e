import {_t} from "@web/core/l10n/translation";

// What a session's state reads as, and the badge that shows it: the chat and the chatter's box.
const STATE_LABELS = {
    draft: _t("Draft"),
    running: _t("Running"),
    waiting_approval: _t("Waiting for approval"),
    waiting_tool: _t("Waiting for delegated work"),
    done: _t("Done"),
    error: _t("Error"),
    cancelled: _t("Cancelled"),
};
const STATE_CLASSES = {
    running: "text-bg-info",
    waiting_approval: "text-bg-warning",
    waiting_tool: "text-bg-info",
    done: "text-bg-success",
    error: "text-bg-danger",
    cancelled: "text-bg-secondary",
};

export function sessionStateLabel(state) {
    return STATE_LABELS[state] || state;
}

export function sessionStateClass(state) {
    return STATE_CLASSES[state] || "text-bg-light";
}
