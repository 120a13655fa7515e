"""Traces of the suite: the OpenTelemetry SDK, set up once per process when an endpoint is
configured, and the spans of what Odoo runs (queue jobs); the engine's spans are in
:mod:`ai_engine.tracing`, the API's in :mod:`ai_core.controllers.helpers`.

Configuration, read when the first span of the process is made (in each prefork worker, after
the fork, so the exporter's thread belongs to the worker):

* ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` in the environment,
  or ``otel_exporter_otlp_endpoint`` in odoo.conf (the base URL of an OTLP/HTTP collector, as
  the environment variable: ``/v1/traces`` is added). Without one, nothing is set up: spans stay
  the API's no-ops and nothing is exported.
* ``OTEL_SDK_DISABLED=true`` turns everything off, an endpoint notwithstanding.
* Every other standard variable is the SDK's: ``OTEL_SERVICE_NAME`` (default here: ``odoo``),
  ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``_ARG``, ``OTEL_EXPORTER_OTLP_HEADERS``,
  ``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_BSP_*``.
"""

import functools
import logging
import os
import threading

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from odoo.http import request
from odoo.tools import config

from .ai_engine import tracing

_logger = logging.getLogger(__name__)

__all__ = [
    "build_tracer_provider",
    "ensure_configured",
    "install_log_trace_ids",
    "job_trace",
    "traced_job",
]

CONF_ENDPOINT = "otel_exporter_otlp_endpoint"
# The job keyword argument that carries the W3C trace context of whoever queued the job.
JOB_TRACE_KWARG = "aia_trace"

_configured = False
_lock = threading.Lock()


def build_tracer_provider(environ, conf_endpoint=None):
    """The SDK tracer provider that ``environ`` and odoo.conf's endpoint ask for, or None.

    Returns None when the SDK is disabled (``OTEL_SDK_DISABLED``) or no endpoint is configured.
    The provider exports in batches over OTLP/HTTP.
    """
    if (environ.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return None
    from_environ = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not (from_environ or conf_endpoint):
        return None
    # The SDK only now: a database without tracing never imports it.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # As the SDK reads these variables: the traces endpoint as it is, /v1/traces added to the
    # base one. The exporter reads its other variables (headers, timeout, ...) itself.
    traces_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not traces_endpoint:
        traces_endpoint = (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or conf_endpoint).rstrip(
            "/"
        ) + "/v1/traces"
    exporter = OTLPSpanExporter(endpoint=traces_endpoint)
    attributes = {SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or "odoo"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def ensure_configured():
    """Set the SDK up in this process if it is configured and not done yet; cheap once done."""
    global _configured
    if _configured:
        return
    with _lock:
        if _configured:
            return
        _configured = True
        try:
            provider = build_tracer_provider(os.environ, config.get(CONF_ENDPOINT))
        except Exception:  # a broken exporter setup must not break the ERP: no traces
            _logger.exception("OpenTelemetry could not be set up; no traces are exported")
            return
        if provider is None:
            return
        # Global too, so other OpenTelemetry instrumentation in this process exports alike.
        trace.set_tracer_provider(provider)
        tracing.set_tracer_provider(provider)
        _logger.info("OpenTelemetry traces exported over OTLP/HTTP")


def job_trace():
    """Keyword arguments for a job queued now: the current trace context, so the job's span
    continues the trace of what queued it (a REST API request, another job), else the trace of
    the HTTP request being served (a JSON-2 call with a ``traceparent``). Empty without one."""
    headers = tracing.carrier() or _request_trace()
    return {JOB_TRACE_KWARG: headers} if headers else {}


def _request_trace():
    """The W3C trace context of the HTTP request being served, if it sent a valid one (Odoo's
    own routes, such as JSON-2, make no span of theirs)."""
    if not request:
        return {}
    context = tracing.context_from(request.httprequest.headers)
    return tracing.carrier(trace.get_current_span(context)) if context is not None else {}


def traced_job(method):
    """Run a queue job method in a span, child of the trace it was queued in (its
    ``aia_trace`` keyword argument, see :func:`job_trace`), current while the job runs."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        ensure_configured()
        parent = tracing.context_from(kwargs.pop(JOB_TRACE_KWARG, None))
        name = f"{self._name}.{method.__name__}"
        attributes = {tracing.AIA_JOB_METHOD: name}
        job_uuid = self.env.context.get("job_uuid")
        if job_uuid:
            attributes[tracing.AIA_JOB_UUID] = job_uuid
        if len(self) == 1:
            attributes[tracing.AIA_RECORD_ID] = self.id
        span = tracing.start_span(f"job {name}", attributes, kind=SpanKind.CONSUMER, parent=parent)
        try:
            with tracing.using(span):
                return method(self, *args, **kwargs)
        except Exception as exc:
            tracing.record_error(span, type(exc).__name__)
            raise
        finally:
            span.end()

    return wrapper


def install_log_trace_ids():
    """Every log line written while a traced request or job runs ends with its ``trace_id=``, so
    that a support person goes from a line to its trace (and from a session to its lines). The
    process's log record factory adds it, for every handler; a line naming its trace already
    (``aia.api``'s) is left as it is. Installed once per process, when this module is imported."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "aia_trace_ids", False):
        return

    def record_with_trace_id(*args, **kwargs):
        record = previous(*args, **kwargs)
        trace_id = tracing.trace_id_of()
        if trace_id:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed call is logging's to report, unchanged
                return record
            if "trace_id=" not in message:
                record.msg, record.args = f"{message} trace_id={trace_id}", ()
        return record

    record_with_trace_id.aia_trace_ids = True
    logging.setLogRecordFactory(record_with_trace_id)


install_log_trace_ids()
