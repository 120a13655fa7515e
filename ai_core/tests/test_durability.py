"""A turn survives its worker being killed: a real Odoo server runs the turn's job, is killed with
SIGKILL in the middle of the turn, and started again; queue_job's runner queues the dead job anew
and the turn goes on from what was saved, without running its write again.

The server runs on this test's database: a database of its own would need ai_core installed in
it (a minute more), and a copy of this one cannot be made while this test run is connected to
it. What the server must see is committed on cursors of their own and removed afterwards; the
server runs no cron and serves this database only.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, config

from ..ai_engine.testing import unwrap_tool_result
from .fake_servers import FakeAnthropicServer, FakeHTTPError, FakeToolCall

# queue_job's runner queues a started job anew once its lock is free and it was enqueued more
# than this many seconds ago (its requeue_dead_jobs query).
DEAD_JOB_DELAY = 10
# Seconds to wait for the server to start and for the turn to get where the test needs it.
WAIT = 40


class _HoldingServer(FakeAnthropicServer):
    """Answers from its script, but holds its ``hold``-th request (1-based) until released; its
    ``held`` event tells the test the request arrived."""

    def __init__(self, hold):
        super().__init__(api_key="sk-fake")
        self.hold = hold
        self.held = threading.Event()
        self.release = threading.Event()
        self.count = 0

    def _next_reply(self):
        with self._lock:
            self.count += 1
            number = self.count
        if number == self.hold:
            self.held.set()
            self.release.wait(WAIT)
            # Never read: the worker that asked is gone by then.
            return FakeHTTPError(529, message="held request released")
        return super()._next_reply()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DurabilityCase(TransactionCase):
    """A real Odoo server on this test's database, killed and started again; a fake Anthropic
    server that holds its second request (``provider``); data committed on cursors of their own."""

    def setUp(self):
        super().setUp()
        self.tag = uuid.uuid4().hex[:8]
        self.partner_name = f"Durable Ltd {self.tag}"
        self.provider = _HoldingServer(hold=2).start()
        self.addCleanup(self.provider.stop)
        self.addCleanup(self.provider.release.set)
        self.log = tempfile.NamedTemporaryFile("w+", prefix="aia-durable-", suffix=".log")
        self.addCleanup(self.log.close)
        self.process = None
        self.port = _free_port()

    # === THE SERVER === #

    def start_server(self):
        """Start Odoo on this database with queue_job's runner (one thread, no cron)."""
        db = self.env.cr.dbname
        args = [sys.executable, "-m", "odoo", "server"]
        if config.rcfile and os.path.exists(config.rcfile):
            args += ["-c", config.rcfile]
        for option in ("db_host", "db_port", "db_user", "db_password"):
            if config[option]:
                args += [f"--{option}", str(config[option])]
        args += [
            "--addons-path",
            ",".join(config["addons_path"]),
            "-d",
            db,
            "--db-filter",
            f"^{db}$",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--workers",
            "0",
            "--max-cron-threads",
            "0",
            "--load",
            "base,web,queue_job",
        ]
        env = dict(
            os.environ,
            ODOO_QUEUE_JOB_CHANNELS="root:2",
            ODOO_QUEUE_JOB_HOST="127.0.0.1",
            ODOO_QUEUE_JOB_PORT=str(self.port),
        )
        env.pop("QUEUE_JOB__NO_DELAY", None)
        self.log.write(f"--- server started: {' '.join(args[1:])}\n")
        self.log.flush()
        self.process = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.addCleanup(self.kill_server, self.process)
        return self.process

    def kill_server(self, process, sig=signal.SIGKILL):
        if process.poll() is None:
            os.kill(process.pid, sig)
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(WAIT)

    def server_log(self):
        self.log.flush()
        with open(self.log.name) as log:
            return log.read()[-20000:]

    def wait_for(self, what, condition, timeout=WAIT):
        """Wait until ``condition()`` is true (polled); fail with the server's log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                self.fail(f"the server stopped while waiting for {what}\n{self.server_log()}")
            time.sleep(0.2)
        self.fail(f"timed out after {timeout} s waiting for {what}\n{self.server_log()}")

    # === COMMITTED DATA === #

    def committed(self, function):
        """``function(env)`` on a cursor of its own, committed: what the server sees."""
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    def query(self, sql, *params):
        return self.committed(lambda env: env.execute_query(SQL(sql, *params)))

    def new_writing_agent(self, env):
        """An agent that writes contacts (no shadow mode, no approval) on the fake provider,
        removed after the test."""
        provider = env["aia.provider"].create(
            {
                "name": f"Durable {self.tag}",
                "base_url": self.provider.base_url,
                "api_key": "sk-fake",
                "max_retries": 0,
            }
        )
        llm = env["aia.model"].create({"name": "claude-durable", "provider_id": provider.id})
        agent = env["aia.agent"].create(
            {
                "code": f"durable_{self.tag}",
                "name": f"Durable {self.tag}",
                "model_id": llm.id,
                "shadow_mode": False,
                "approval_mode": "none",
                "tool_ids": [(6, 0, env["aia.tool"].search([("name", "=like", "orm.%")]).ids)],
                "allowed_model_ids": [(6, 0, [env.ref("base.model_res_partner").id])],
            }
        )
        self.addCleanup(self.drop, provider.id, llm.id, agent.id)
        return agent

    def script_write_then_answer(self, answer):
        """The model calls the write tool (the contact ``partner_name``), then answers ``answer``;
        the second request is held."""
        self.provider.add_tool_calls(
            FakeToolCall("orm_create", {"model": "res.partner", "values": {"name": self.partner_name}})
        )
        self.provider.add_text(answer)

    def restart_after_death(self, job_id):
        """Start the server again once queue_job's runner will queue the dead job ``job_id``
        anew: when it was enqueued DEAD_JOB_DELAY seconds ago; its runner's first pass then does."""
        [(age,)] = self.query(
            "SELECT EXTRACT(EPOCH FROM now() AT TIME ZONE 'utc' - date_enqueued) FROM queue_job WHERE id=%s",
            job_id,
        )
        time.sleep(max(0, DEAD_JOB_DELAY + 1 - float(age)))
        return self.start_server()

    def drop_jobs(self, env, jobs):
        if jobs:
            env.cr.execute("DELETE FROM queue_job_lock WHERE queue_job_id IN %s", [tuple(jobs.ids)])
            jobs.unlink()

    def drop(self, provider_id, model_id, agent_id):
        def drop(env):
            env["aia.agent"].browse(agent_id).unlink()
            env["aia.model"].browse(model_id).unlink()
            env["aia.provider"].browse(provider_id).unlink()

        self.committed(drop)

    def partners(self):
        return self.query("SELECT id FROM res_partner WHERE name = %s", self.partner_name)


@tagged("post_install", "-at_install")
class TestDurability(DurabilityCase):
    def open_session(self, env):
        """A session of the administrator with an agent that writes (no shadow mode, no
        approval), its first message posted and its turn queued."""
        agent = self.new_writing_agent(env)
        admin = env.ref("base.user_admin")
        session = env["aia.session"].with_user(admin).create({"agent_id": agent.id})
        self.addCleanup(self.drop_session, session.id)
        session.post_message(f"Create {self.partner_name}")
        return session.id

    def drop_session(self, session_id):
        def drop(env):
            self.drop_jobs(env, self.jobs(env, session_id))
            env.cr.execute("DELETE FROM aia_usage_event WHERE session_id = %s", [session_id])
            env["aia.session"].browse(session_id).exists().unlink()
            env["res.partner"].search([("name", "=", self.partner_name)]).unlink()

        self.committed(drop)

    @staticmethod
    def jobs(env, session_id):
        jobs = env["queue.job"].search([("model_name", "=", "aia.session")])
        return jobs.filtered(lambda job: session_id in job.records.ids)

    def session_row(self, session_id):
        [row] = self.query("SELECT state, last_text FROM aia_session WHERE id = %s", session_id)
        return row

    # === TESTS === #

    def write_then_hold(self):
        """A session whose turn runs on a server: the model calls the write tool, the write runs
        and is committed, and the model asked again is held. Returns the session's and the
        server's ids. The held request is never answered (its server is stopped meanwhile);
        the next one gets the answer."""
        self.script_write_then_answer(f"{self.partner_name} is created.")
        session_id = self.committed(self.open_session)
        server = self.start_server()
        self.wait_for("the model to be asked again after the write", lambda: self.provider.held.is_set())
        # The write and its result were committed before the model was asked again.
        self.assertEqual(len(self.partners()), 1, self.server_log())
        self.assertEqual(self.session_row(session_id)[0], "running")
        return session_id, server

    def assertRecovered(self, session_id):
        """The turn ended with the model's answer, the write ran once, and the model's last
        request carried the write's saved result."""
        state, last_text = self.session_row(session_id)
        log = self.server_log()
        self.assertEqual((state, last_text), ("done", f"{self.partner_name} is created."), log)
        self.assertEqual(len(self.partners()), 1, log)
        executions = self.query("SELECT status FROM aia_tool_execution WHERE session_id = %s", session_id)
        self.assertEqual(executions, [("ok",)], log)
        last = self.provider.requests[-1].body["messages"][-1]["content"][0]
        self.assertEqual(last["type"], "tool_result")
        self.assertIn('"id"', unwrap_tool_result(last["content"]))

    def test_a_turn_survives_its_server_being_killed_and_writes_once(self):
        session_id, first = self.write_then_hold()
        self.kill_server(first, signal.SIGKILL)

        [job_id] = self.committed(lambda env: self.jobs(env, session_id).ids)
        self.restart_after_death(job_id)
        self.wait_for("the turn to end", lambda: self.session_row(session_id)[0] != "running")
        self.assertRecovered(session_id)
        self.assertIn("Re-queued dead job", self.server_log())
        # The call, the held request, the answer after the recovery.
        self.assertEqual(len(self.provider.requests), 3)

    def test_a_turn_stopped_by_a_shutdown_goes_on_once_a_server_is_back(self):
        """SIGTERM (a graceful shutdown) while the turn waits for the model: Odoo closes the
        databases' connections under the turn, its job fails, and queue_job's failure hook
        queues the turn's recovery, which the next server runs: the session is never left
        running with nothing to move it on."""
        session_id, first = self.write_then_hold()
        os.kill(first.pid, signal.SIGTERM)
        # Odoo waits a second for requests, then closes every connection; only then may the
        # held model call return to the turn.
        self.wait_for(
            "the shutdown to close the connections", lambda: "Initiating shutdown" in self.server_log()
        )
        time.sleep(3)
        self.provider.release.set()
        self.wait_for("the server to stop", lambda: first.poll() is not None)
        states = self.committed(lambda env: sorted(self.jobs(env, session_id).mapped("method_name")))
        self.assertEqual(states, ["_aia_job_recover", "_aia_job_run_turn"], self.server_log())
        self.assertEqual(self.session_row(session_id)[0], "running")
        self.start_server()
        self.wait_for("the turn to end", lambda: self.session_row(session_id)[0] != "running")
        self.assertRecovered(session_id)
