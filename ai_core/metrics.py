"""Prometheus metrics of the suite, served as text at ``GET /aia/v1/metrics``.

Counters and histograms live in this process (prometheus_client). With several Odoo workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by Odoo before it starts: the client
then shares the figures of every worker through files and the endpoint adds them up. The queued
and running agent jobs are read from the database at each scrape.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .ai_engine import ToolResult, Usage

__all__ = ["CONTENT_TYPE_LATEST", "observe_event", "observe_latency", "observe_request", "render"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Tool statuses that count as failures (denied and shadowed calls did what they should).
FAILED_TOOL_STATUSES = ("error", "timeout")
# queue_job states, as reported in the `state` label of aia_jobs.
JOB_STATES = {
    "wait_dependencies": "queued",
    "pending": "queued",
    "enqueued": "queued",
    "started": "running",
}
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)

REGISTRY = CollectorRegistry()

API_REQUESTS = Counter(
    "aia_api_requests", "Requests to the /aia/v1 API.", ["endpoint", "code"], registry=REGISTRY
)
API_LATENCY = Histogram(
    "aia_api_request_duration_seconds",
    "Time to answer an /aia/v1 request (to the end of the stream for SSE).",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "aia_provider_request_duration_seconds",
    "Duration of provider calls that answered.",
    ["provider", "model"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_TOKENS = Counter(
    "aia_provider_tokens",
    "Tokens of provider calls by kind: input, output, cache_read, cache_write.",
    ["provider", "model", "kind"],
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "aia_tool_calls", "Tool calls by tool and status.", ["tool", "status"], registry=REGISTRY
)
TOOL_FAILURES = Counter(
    "aia_tool_failures", "Tool calls that failed or timed out.", ["tool"], registry=REGISTRY
)


def observe_request(endpoint, code):
    API_REQUESTS.labels(endpoint, str(code)).inc()


def observe_latency(endpoint, seconds):
    API_LATENCY.labels(endpoint).observe(seconds)


def observe_event(event):
    """Account for a turn event: provider calls (``usage``) and tool calls (``tool_result``)."""
    if isinstance(event, Usage):
        PROVIDER_LATENCY.labels(event.provider, event.model).observe(event.latency_ms / 1000)
        for kind in ("input", "output", "cache_read", "cache_write"):
            tokens = getattr(event, f"{kind}_tokens")
            if tokens:
                PROVIDER_TOKENS.labels(event.provider, event.model, kind).inc(tokens)
    elif isinstance(event, ToolResult):
        TOOL_CALLS.labels(event.name, event.status).inc()
        if event.status in FAILED_TOOL_STATUSES:
            TOOL_FAILURES.labels(event.name).inc()


class _JobsCollector:
    """``aia_jobs{channel, state}``: queue_job rows of the root.aia channels, read at each scrape."""

    def __init__(self, env):
        self.env = env

    def collect(self):
        gauge = GaugeMetricFamily(
            "aia_jobs", "Agent jobs (root.aia channels) queued or running.", labels=["channel", "state"]
        )
        aia_channels = ["|", ("complete_name", "=", "root.aia"), ("complete_name", "=like", "root.aia.%")]
        channels = self.env["queue.job.channel"].sudo().search(aia_channels).mapped("complete_name")
        counts = {(channel, state): 0 for channel in channels for state in ("queued", "running")}
        groups = (
            self.env["queue.job"]
            .sudo()
            ._read_group(
                [
                    "|",
                    ("channel", "=", "root.aia"),
                    ("channel", "=like", "root.aia.%"),
                    ("state", "in", list(JOB_STATES)),
                ],
                ["channel", "state"],
                ["__count"],
            )
        )
        for channel, state, count in groups:
            key = (channel, JOB_STATES[state])
            counts[key] = counts.get(key, 0) + count
        for (channel, state), count in sorted(counts.items()):
            gauge.add_metric([channel, state], count)
        yield gauge


class _Delegate:
    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def render(env):
    """The exposition text of every metric, with the job gauges read through ``env``."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Delegate(REGISTRY))
    registry.register(_JobsCollector(env))
    return generate_latest(registry)
