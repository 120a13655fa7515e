"""The turn service: accepting a message (:mod:`.accept`), reading the transcript
(:mod:`.transcript`), running a turn (:mod:`.run`), recording its events (:mod:`.recorder`), the
ledgers it writes (:mod:`.ledger`), the bus notifications it sends (:mod:`.notifier`) and the
jobs of turns whose worker stopped (:mod:`.recovery`)."""

from .accept import (
    BUSY_STATES,
    ENABLED_PARAM,
    AgentsDisabled,
    EmptyMessage,
    SessionBusy,
    accept,
    accept_batch,
    agents_enabled,
    check_enabled,
    enqueue_answer,
    enqueue_recovery,
    enqueue_resume,
    enqueue_turns,
)
from .ledger import ExecutionLedger, UsageLedger, left, spending
from .notifier import BUS_TYPE, notify
from .recorder import TurnRecorder
from .recovery import given_up, job_alive
from .run import run_turn
from .transcript import load_transcript

__all__ = [
    "BUSY_STATES",
    "BUS_TYPE",
    "ENABLED_PARAM",
    "AgentsDisabled",
    "EmptyMessage",
    "ExecutionLedger",
    "SessionBusy",
    "TurnRecorder",
    "UsageLedger",
    "accept",
    "accept_batch",
    "agents_enabled",
    "check_enabled",
    "enqueue_answer",
    "enqueue_recovery",
    "enqueue_resume",
    "enqueue_turns",
    "given_up",
    "job_alive",
    "left",
    "load_transcript",
    "notify",
    "run_turn",
    "spending",
]
