"""A tracer provider of the OpenTelemetry SDK with its in-memory exporter, for the tests of the
suite's spans: installed through the engine's seam (``tracing.set_tracer_provider``)."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ..ai_engine import tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{REMOTE_SPAN_ID}-01"


class TracingMixin:
    """``self.spans``: the exporter every span of the suite goes to during the test."""

    def setUp(self):
        super().setUp()
        self.spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.spans))
        tracing.set_tracer_provider(provider)
        self.addCleanup(provider.shutdown)
        self.addCleanup(tracing.set_tracer_provider, None)

    def finished(self, prefix=""):
        return sorted(
            (span for span in self.spans.get_finished_spans() if span.name.startswith(prefix)),
            key=lambda span: span.start_time,
        )

    def assertChildOf(self, child, parent):
        self.assertIsNotNone(child.parent, f"{child.name} has no parent")
        self.assertEqual(
            child.parent.span_id, parent.context.span_id, f"{child.name} not under {parent.name}"
        )

    def assertNothingLeaks(self, *texts):
        """No name, attribute, event or status of any span holds any of ``texts``."""
        spans = self.spans.get_finished_spans()
        self.assertTrue(spans)
        for span in spans:
            values = [span.name, span.status.description, *span.attributes.values()]
            for event in span.events:
                values += [event.name, *event.attributes.values()]
            for value in values:
                for text in texts:
                    self.assertNotIn(text, str(value), f"span {span.name} carries {text!r}")


def trace_hex(span):
    return trace.format_trace_id(span.context.trace_id)
