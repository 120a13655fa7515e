"""Traces of turns, jobs and API requests, exported by the OpenTelemetry SDK to its in-memory
exporter; the SDK's own setup, exporting to a local OTLP/HTTP receiver."""

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import SpanKind, StatusCode

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import telemetry
from ..ai_engine import ServerError, tracing
from ..ai_engine.testing import ScriptedModel, failure, reply, tool_calls
from .api_case import CHAT, LOGGER, STREAM, ApiCase, parse_sse
from .common import AiaCase, perform_jobs
from .tracing_case import REMOTE_SPAN_ID, TRACE_ID, TRACEPARENT, TracingMixin, trace_hex

_logger = logging.getLogger(__name__)

PROMPT = "Which contacts PROMPT-3318 are in Brussels?"
ANSWER = "Two contacts ANSWER-7204 are in Brussels."
NOTE = "Private note TOOLTEXT-5521"
ARGUMENT = "ARGTEXT-9902"
SECRET = "sk-ant-api03-PROVIDERKEY-7f3e9a"


class FallbackMixin:
    """The agent's model has a fallback on a second provider; both are scripted at the
    providers' choke point."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.api_key = SECRET
        cls.fallback_provider = cls.env["aia.provider"].create({"name": "Fallback", "api_key": SECRET})
        cls.fallback_llm = cls.env["aia.model"].create(
            {"name": "fallback-test", "provider_id": cls.fallback_provider.id}
        )
        cls.agent.fallback_model_id = cls.fallback_llm
        cls.partner = cls.env["res.partner"].create({"name": "Brussels contact", "comment": NOTE})

    def script_providers(self, primary_steps, fallback_steps):
        models = {
            self.provider.id: ScriptedModel(primary_steps, provider="anthropic"),
            self.fallback_provider.id: ScriptedModel(fallback_steps, provider="openrouter"),
        }
        self.patch(
            type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: models[provider.id]
        )
        return models

    def script_turn_with_fallback(self):
        """First request: the primary fails, the fallback asks for two tools; second request:
        the primary answers."""
        return self.script_providers(
            [failure(ServerError("overloaded", status=529, provider="anthropic")), reply(ANSWER)],
            [
                tool_calls(
                    (
                        "orm_search_read",
                        {
                            "model": "res.partner",
                            "domain": [["id", "=", self.partner.id]],
                            "fields": ["comment"],
                        },
                    ),
                    ("orm_count", {"model": "res.partner", "domain": [["name", "=", ARGUMENT]]}),
                )
            ],
        )


@tagged("post_install", "-at_install")
class TestTurnTraces(TracingMixin, FallbackMixin, AiaCase):
    def test_a_queued_turn_is_one_span_tree_under_what_queued_it(self):
        models = self.script_turn_with_fallback()
        session = self.new_session()
        # What queues the turn (an API request, a job) has a span: the job carries its context.
        outer = tracing.start_span("caller")
        with trap_jobs() as trap, tracing.using(outer):
            session.post_message(PROMPT)
        outer.end()
        [job] = trap.enqueued_jobs
        self.assertEqual(job.kwargs[telemetry.JOB_TRACE_KWARG]["traceparent"], tracing.traceparent_of(outer))
        perform_jobs(self, trap)
        session.invalidate_recordset()
        for model in models.values():
            model.assert_complete()
        self.assertEqual((session.state, session.last_text), ("done", ANSWER))

        [caller] = self.finished("caller")
        [job_span] = self.finished("job aia.session._aia_job_run_turn")
        [turn] = self.finished("invoke_agent")
        chats = self.finished("chat ")
        tools = self.finished("execute_tool ")
        self.assertEqual((len(chats), len(tools)), (2, 2))
        self.assertEqual({trace_hex(span) for span in self.spans.get_finished_spans()}, {trace_hex(caller)})
        self.assertEqual(session.sudo().trace_id, trace_hex(caller))

        self.assertChildOf(job_span, caller)
        self.assertEqual(job_span.kind, SpanKind.CONSUMER)
        self.assertEqual(job_span.attributes[tracing.AIA_JOB_UUID], job.uuid)
        self.assertChildOf(turn, job_span)
        self.assertEqual(turn.name, "invoke_agent assistant")
        self.assertEqual(turn.attributes[tracing.GEN_AI_CONVERSATION_ID], str(session.id))
        self.assertEqual(turn.attributes[tracing.AIA_TURN_STOP_REASON], "end_turn")
        for span in chats + tools:
            self.assertChildOf(span, turn)

        first, second = chats
        self.assertEqual(first.attributes[tracing.AIA_FALLBACK_USED], True)
        self.assertEqual(first.attributes[tracing.GEN_AI_PROVIDER_NAME], "openrouter")
        self.assertEqual(first.attributes[tracing.GEN_AI_REQUEST_MODEL], "fallback-test")
        self.assertEqual(first.attributes[tracing.GEN_AI_RESPONSE_FINISH_REASONS], ("tool_use",))
        self.assertEqual(
            [(event.name, event.attributes[tracing.ERROR_TYPE]) for event in first.events],
            [(tracing.SPAN_PROVIDER_FAILED, "provider_server_error")],
        )
        self.assertEqual(second.attributes[tracing.AIA_FALLBACK_USED], False)
        self.assertEqual(second.attributes[tracing.GEN_AI_PROVIDER_NAME], "anthropic")
        self.assertEqual(second.attributes[tracing.GEN_AI_USAGE_INPUT_TOKENS], 10)

        read, count = tools
        self.assertEqual(
            [
                (span.attributes[tracing.GEN_AI_TOOL_NAME], span.attributes[tracing.AIA_TOOL_STATUS])
                for span in tools
            ],
            [("orm.search_read", "ok"), ("orm.count", "ok")],
        )
        self.assertEqual(read.attributes[tracing.AIA_TOOL_ROWS], 1)
        self.assertEqual(read.status.status_code, StatusCode.UNSET)
        self.assertEqual(
            read.attributes[tracing.GEN_AI_TOOL_CALL_ID], session.execution_ids.sorted("id")[0].call_id
        )
        self.assertGreater(count.attributes[tracing.AIA_TOOL_RESULT_SIZE], 0)

        # What people and tools wrote stays out of the traces; so do secrets.
        self.assertNothingLeaks(PROMPT, "PROMPT-3318", "ANSWER-7204", "TOOLTEXT-5521", ARGUMENT, SECRET)

    def test_a_turn_queued_outside_any_trace_starts_its_own(self):
        self.script_providers([reply(ANSWER)], [])
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message(PROMPT)
        self.assertNotIn(telemetry.JOB_TRACE_KWARG, trap.enqueued_jobs[0].kwargs)
        perform_jobs(self, trap)
        [job_span] = self.finished("job ")
        [turn] = self.finished("invoke_agent")
        self.assertIsNone(job_span.parent)
        self.assertChildOf(turn, job_span)
        self.assertEqual(session.sudo().trace_id, trace_hex(job_span))

    def test_users_cannot_read_or_write_the_trace_id(self):
        session = self.new_session()
        with self.assertRaises(AccessError):
            session.with_user(self.user).write({"trace_id": TRACE_ID})
        with self.assertRaises(AccessError):
            session.with_user(self.user).read(["trace_id"])
        with self.assertRaises(AccessError):
            self.env["aia.session"].with_user(self.user).create(
                {"agent_id": self.agent.id, "trace_id": TRACE_ID}
            )
        manager = self.make_user("aia_trace_manager", "ai_core.group_aia_manager")
        self.assertEqual(session.with_user(manager).read(["trace_id"])[0]["trace_id"], False)


@tagged("post_install", "-at_install")
class TestSdkSetup(AiaCase):
    def test_nothing_is_set_up_without_an_endpoint_or_when_disabled(self):
        self.assertIsNone(telemetry.build_tracer_provider({}))
        disabled = {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
        self.assertIsNone(telemetry.build_tracer_provider(disabled))
        self.assertIsNone(
            telemetry.build_tracer_provider({"OTEL_SDK_DISABLED": "TRUE"}, "http://127.0.0.1:1")
        )

    def test_an_endpoint_from_the_environment_or_odoo_conf_exports_spans_over_otlp_http(self):
        received = []

        class Collector(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_port}"
        for environ, conf in (
            ({"OTEL_EXPORTER_OTLP_ENDPOINT": base, "OTEL_SERVICE_NAME": "erp-eu"}, None),
            ({}, base + "/"),
        ):
            provider = telemetry.build_tracer_provider(environ, conf)
            provider.get_tracer("test").start_span("exported").end()
            self.assertTrue(provider.force_flush(10_000))
            provider.shutdown()
        self.assertEqual([path for path, _type, _body in received], ["/v1/traces", "/v1/traces"])
        services = []
        for _path, content_type, body in received:
            self.assertEqual(content_type, "application/x-protobuf")
            export = ExportTraceServiceRequest.FromString(body)
            [resource_spans] = export.resource_spans
            [span] = resource_spans.scope_spans[0].spans
            self.assertEqual(span.name, "exported")
            attributes = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            services.append(attributes["service.name"])
        self.assertEqual(services, ["erp-eu", "odoo"])


@tagged("post_install", "-at_install")
class TestApiTraces(TracingMixin, FallbackMixin, ApiCase):
    def test_the_request_continues_the_callers_trace_and_logs_its_id(self):
        self.script_turn_with_fallback()
        with self.assertLogs(LOGGER, logging.INFO) as logs:
            response = self.call(
                CHAT, {"message": PROMPT}, key=self.key, headers={"traceparent": TRACEPARENT}
            )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["text"], ANSWER)
        [request_span] = self.finished("POST ")
        [turn] = self.finished("invoke_agent")
        self.assertEqual(request_span.name, "POST /aia/v1/agents/{code}/chat")
        self.assertEqual(request_span.kind, SpanKind.SERVER)
        self.assertEqual(request_span.attributes["http.response.status_code"], 200)
        self.assertEqual(request_span.attributes[tracing.AIA_REQUEST_ID], response.headers["X-Request-Id"])
        self.assertTrue(request_span.parent.is_remote)
        self.assertEqual(request_span.parent.span_id, int(REMOTE_SPAN_ID, 16))
        self.assertChildOf(turn, request_span)
        self.assertEqual(len(self.finished("chat ")), 2)
        self.assertEqual({trace_hex(span) for span in self.spans.get_finished_spans()}, {TRACE_ID})
        session = self.env["aia.session"].browse(response.json()["session_id"])
        self.assertEqual(session.trace_id, TRACE_ID)
        [line] = [line for line in logs.output if "aia.api request_id=" in line]
        self.assertIn(f"request_id={response.headers['X-Request-Id']} trace_id={TRACE_ID} ", line)
        self.assertNothingLeaks(
            PROMPT, "PROMPT-3318", "ANSWER-7204", "TOOLTEXT-5521", ARGUMENT, SECRET, self.key
        )

    def test_every_log_line_of_a_traced_request_names_its_trace(self):
        self.script_turn_with_fallback()
        with self.assertLogs("odoo.addons.ai_core", logging.INFO) as logs:
            response = self.call(
                CHAT, {"message": PROMPT}, key=self.key, headers={"traceparent": TRACEPARENT}
            )
        self.assertEqual(response.status_code, 200, response.text)
        # The fallback chain's warning, logged deep in the turn, ends with the request's trace.
        [fallback] = [line for line in logs.output if "trying the next one" in line]
        self.assertTrue(fallback.endswith(f" trace_id={TRACE_ID}"), fallback)
        # The API's own line names it once, where it always has.
        [line] = [line for line in logs.output if "aia.api request_id=" in line]
        self.assertEqual(line.count("trace_id="), 1)
        # Outside any trace, a line is as written.
        with self.assertLogs(_logger, logging.INFO) as plain:
            _logger.info("no trace here: %s", "-")
        self.assertEqual(plain.output, [f"INFO:{_logger.name}:no trace here: -"])

    def test_the_streamed_turn_joins_the_request_trace(self):
        self.script_providers([reply(ANSWER)], [])
        response = self.call(STREAM, {"message": PROMPT}, key=self.key, headers={"traceparent": TRACEPARENT})
        event, data = parse_sse(response.text)[-1]
        self.assertEqual((event, data["stop_reason"], data["text"]), ("done", "end_turn", ANSWER))
        [request_span] = self.finished("POST ")
        [turn] = self.finished("invoke_agent")
        self.assertChildOf(turn, request_span)
        self.assertEqual(trace_hex(turn), TRACE_ID)
        self.assertEqual(request_span.attributes["http.response.status_code"], 200)

    def test_a_hostile_traceparent_is_ignored_and_the_request_traced_on_its_own(self):
        self.script_providers([reply(ANSWER)] * 4, [])
        for hostile in (
            "garbage",
            f"ff-{TRACE_ID}-{REMOTE_SPAN_ID}-01",  # version ff is forbidden
            f"00-{'0' * 32}-{REMOTE_SPAN_ID}-01",  # an all-zero trace id is invalid
            TRACEPARENT + "-" + "x" * 60_000,
        ):
            self.spans.clear()
            with self.assertLogs(LOGGER, logging.INFO) as logs:
                response = self.call(CHAT, {"message": "hi"}, key=self.key, headers={"traceparent": hostile})
            self.assertEqual(response.status_code, 200, hostile[:40])
            [request_span] = self.finished("POST ")
            self.assertIsNone(request_span.parent)
            self.assertNotEqual(trace_hex(request_span), TRACE_ID)
            [line] = [line for line in logs.output if "aia.api request_id=" in line]
            self.assertIn(f"trace_id={trace_hex(request_span)} ", line)

    def test_a_turn_queued_over_json2_continues_the_callers_trace_in_its_job(self):
        self.script_providers([reply(ANSWER)], [])
        with trap_jobs() as trap:
            response = self.call(
                "/json/2/aia.session/start",
                {"agent_code": "assistant", "message": PROMPT},
                key=self.key,
                headers={"traceparent": TRACEPARENT},
            )
            self.assertEqual(response.status_code, 200, response.text)
            [job] = trap.enqueued_jobs
            self.assertEqual(job.kwargs[telemetry.JOB_TRACE_KWARG], {"traceparent": TRACEPARENT})
            perform_jobs(self, trap)
        [job_span] = self.finished("job ")
        [turn] = self.finished("invoke_agent")
        self.assertTrue(job_span.parent.is_remote)
        self.assertEqual(job_span.parent.span_id, int(REMOTE_SPAN_ID, 16))
        self.assertChildOf(turn, job_span)
        self.assertEqual({trace_hex(span) for span in self.spans.get_finished_spans()}, {TRACE_ID})
        self.assertEqual(self.env["aia.session"].browse(response.json()).trace_id, TRACE_ID)
