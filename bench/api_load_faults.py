"""Load-and-fault run of the REST chat API: concurrent chats against a multi-worker Odoo whose
agent's provider is a local fake Anthropic server that injects faults.

Run with the interpreter that imports Odoo 19 (the repository's ``.venv``); PostgreSQL must accept
the role given by ``--db-user`` without a password. The script:

1. creates the throwaway database ``--database`` once (``-i ai_core --without-demo``) or reuses it;
2. starts a fake Anthropic Messages server on 127.0.0.1 (the real SSE wire format, from
   ``ai_core/tests/fake_servers.py``) that, for the share ``--fault-share`` of the chats of a faulty
   phase, answers ``429`` with ``retry-after: 1`` once, ``529 overloaded`` once, ``529`` on every
   attempt, or cuts its stream mid-way (a quarter of the faulty chats each);
3. configures the suite through the ORM as its administrator (made AI Manager): a provider whose
   base URL is that server (defaults kept: 2 SDK retries, breaker after 5 failures, 30 s
   cool-down), a model, an agent, and one API user (AI User) with a fresh API key per client, so
   that neither the per-user rate limit nor the per-user cap of concurrent in-request turns refuses
   a chat (their system parameters are left as they are);
4. starts Odoo with ``--workers`` on 127.0.0.1 (free ports, no cron threads) and warms its workers;
5. runs ``--rounds`` rounds of two phases: a baseline (every client sends one chat at the same
   moment, no faults), then the faulty phase (the same chats, the fault plan on). ``--stream-share``
   of the clients use ``/chat/stream``, the others ``/chat``;
6. stops Odoo and the fake server, then checks in the database that the user message of every
   request was saved (each message carries a unique tag, also sent as ``X-Request-Id``) and that
   every session of the run ended in ``done``, or in ``error`` with an error message.

A request whose message is not saved counts as lost unless the client was told so: an HTTP error
naming no session (refused before the turn: rate limit, open circuit), or a connection the kernel
reset before Odoo accepted it (its request id is then absent from Odoo's log: Odoo's prefork
server listens with a backlog of 8 × workers, and clients beyond it are not queued).

``--queue-proxy MAXCONN`` puts a relay in front of Odoo that accepts every client and queues them,
opening at most MAXCONN connections to Odoo (as HAProxy's ``maxconn`` does); ``--revision REV``
runs the addons of a commit (``git archive``) instead of the work tree.

Traffic goes to 127.0.0.1 only. Each phase is bounded by ``--phase-timeout`` seconds and each
request by ``--request-timeout``; a request still open at the end counts as unfinished. Odoo and
the fake server are stopped whatever happens; the Odoo log is kept in the temporary directory.

    .venv/bin/python bench/api_load_faults.py                     # 32 clients, 3 rounds
    .venv/bin/python bench/api_load_faults.py --clients 200 --rounds 1  # the full run
    .venv/bin/python bench/api_load_faults.py --clients 200 --rounds 1 --queue-proxy 4
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
AGENT_CODE = "bench_load"
PROVIDER_NAME = "Bench load (fake Anthropic)"
PROVIDER_KEY = "sk-bench-load"
MODEL_NAME = "claude-sonnet-4-6"
USER_LOGIN = "aia_bench_load_%03d"
KEY_NAME = "aia bench load"
ANSWER = (
    "Your open pipeline holds 42 opportunities worth 1.2 million, most of them in the "
    "proposition stage; three large deals close this month."
)
QUESTION = "How is the sales pipeline this month?"
# The tag that makes each chat's user message unique: "bench <run> <phase><round> <client>".
TAG = re.compile(r"\[(bench \w+ \w+ \d+)\]")
FAULTS = ("429_retry_after_once", "529_once", "529_every_attempt", "stream_cut")
# The stream is cut after message_start, ping, content_block_start and five text deltas.
CUT_AFTER = 8
API_LOG = re.compile(r"aia\.api request_id=(\S+) endpoint=\S+ status=(\d+) duration_ms=(\d+)")
WORKER_KILLS = re.compile(r"timeout after \d+s|time limit \(\S+\) reached|memory limit \(\S+\) reached")


# === FAKE PROVIDER WITH FAULTS === #


def fault_server_class():
    """Build the server class once ``ai_engine`` is importable (after Odoo's config is parsed)."""
    from odoo.addons.ai_core.tests.fake_servers import FakeAnthropicServer, FakeHTTPError, FakeReply

    class FaultyAnthropicServer(FakeAnthropicServer):
        """Answers every request (no script queue): the fault plan is keyed by the chat's tag,
        found in the request's messages, and by the attempt number (the SDK retries)."""

        def __init__(self, event_delay):
            super().__init__(api_key=PROVIDER_KEY, event_delay=event_delay)
            self.plan = {}
            self.attempts = collections.Counter()
            self.served = collections.Counter()
            self._local = threading.local()

        def _record(self, request):
            # Called by the handler thread just before _next_reply: keep the body for it, and
            # nothing else (a load run would pile up every request).
            self._local.body = request.body

        def _next_reply(self):
            found = TAG.findall(json.dumps(getattr(self._local, "body", None)))
            tag = found[-1] if found else ""
            with self._lock:
                attempt = self.attempts[tag]
                self.attempts[tag] += 1
                fault = self.plan.get(tag)
            reply = FakeReply(text=ANSWER)
            served = "200"
            if fault == "429_retry_after_once" and attempt == 0:
                reply = FakeHTTPError(429, message="Rate limit exceeded", headers={"retry-after": "1"})
                served = "429"
            elif (fault == "529_once" and attempt == 0) or fault == "529_every_attempt":
                reply = FakeHTTPError(529, message="Overloaded")
                served = "529"
            elif fault == "stream_cut" and attempt == 0:
                reply = FakeReply(text=ANSWER, cut_after=CUT_AFTER)
                served = "200 cut mid-stream"
            with self._lock:
                self.served[served] += 1
            return reply

    return FaultyAnthropicServer


# === ODOO === #


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def addons_path(args, source):
    """Odoo's addons path; the repository's entry replaced by ``source`` (an exported revision)."""
    if args.addons_path:
        return args.addons_path
    paths = subprocess.check_output([str(ROOT / "scripts" / "addons_path.sh")], text=True).strip()
    return ",".join(str(source) if path == str(ROOT) else path for path in paths.split(","))


def export_revision(revision, target):
    """The addons of a commit, extracted with ``git archive`` (the work tree is left alone)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return subprocess.check_output(
        ["git", "-C", str(ROOT), "rev-parse", "--short", revision], text=True
    ).strip()


def odoo_command(args, paths, *extra):
    return [
        args.odoo_bin,
        f"--addons-path={paths}",
        f"--database={args.database}",
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        f"--db_user={args.db_user}",
        *extra,
    ]


def database_ready(args):
    import psycopg2

    dsn = {"host": args.db_host, "port": args.db_port, "user": args.db_user}
    with contextlib.closing(psycopg2.connect(dbname="postgres", **dsn)) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if not cr.fetchone():
            return False
    with contextlib.closing(psycopg2.connect(dbname=args.database, **dsn)) as conn, conn.cursor() as cr:
        cr.execute("SELECT state FROM ir_module_module WHERE name = 'ai_core'")
        row = cr.fetchone()
    return bool(row) and row[0] == "installed"


def ensure_database(args, paths):
    if database_ready(args):
        print(f"database {args.database}: reused")
        return
    print(f"database {args.database}: installing ai_core (once)...", flush=True)
    started = time.monotonic()
    command = odoo_command(
        args, paths, "-i", "ai_core", "--without-demo", "--stop-after-init", "--log-level=warn"
    )
    subprocess.run(command, check=True, timeout=1800)
    print(f"database {args.database}: installed in {time.monotonic() - started:.0f} s")


def open_registry(args, paths):
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(
        [
            f"--addons-path={paths}",
            f"--db_host={args.db_host}",
            f"--db_port={args.db_port}",
            f"--db_user={args.db_user}",
            "--log-level=warn",
            "-d",
            args.database,
        ]
    )
    return Registry(args.database)


def configure(registry, provider_url, clients):
    """The suite configured as its administrator would: provider, model, agent, API users, keys.

    Returns ([API key per client], the users' ids)."""
    import odoo

    with registry.cursor() as cr:
        root = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        admin = root.ref("base.user_admin")
        manager_group = root.ref("ai_core.group_aia_manager")
        if manager_group not in admin.group_ids:
            admin.group_ids = [(4, manager_group.id)]
        env = root(user=admin.id)
        Provider = env["aia.provider"].with_context(active_test=False)
        provider = Provider.search([("name", "=", PROVIDER_NAME)], limit=1)
        values = {"kind": "anthropic", "base_url": provider_url, "api_key": PROVIDER_KEY, "active": True}
        if provider:
            provider.write(values)
        else:
            provider = Provider.create({"name": PROVIDER_NAME, **values})
        Model = env["aia.model"]
        model = Model.search([("provider_id", "=", provider.id)], limit=1) or Model.create(
            {"name": MODEL_NAME, "provider_id": provider.id, "price_input": 3, "price_output": 15}
        )
        if not env["aia.agent"].search([("code", "=", AGENT_CODE)], limit=1):
            env["aia.agent"].create(
                {
                    "code": AGENT_CODE,
                    "name": "Bench load",
                    "system_prompt": "You answer questions about the sales pipeline.",
                    "model_id": model.id,
                }
            )
        logins = [USER_LOGIN % index for index in range(clients)]
        Users = env["res.users"].with_context(no_reset_password=True)
        users = Users.search([("login", "in", logins)])
        missing = sorted(set(logins) - set(users.mapped("login")))
        if missing:
            group_ids = [env.ref("base.group_user").id, env.ref("ai_core.group_aia_user").id]
            users |= Users.create(
                [
                    {"name": f"Bench API {login[-3:]}", "login": login, "group_ids": [(6, 0, group_ids)]}
                    for login in missing
                ]
            )
        by_login = {user.login: user for user in users}
        # Keys of earlier runs are removed: one fresh key per API user and run.
        env["res.users.apikeys"].sudo().search([("name", "=", KEY_NAME)])._remove()
        expiration = datetime.datetime.now() + datetime.timedelta(hours=1)
        keys = [
            env["res.users.apikeys"].with_user(by_login[login])._generate("rpc", KEY_NAME, expiration)
            for login in logins
        ]
        cr.commit()
        return keys, [by_login[login].id for login in logins]


class OdooServer:
    """``odoo --workers N`` on 127.0.0.1, in a process group of its own, logging to a file."""

    def __init__(self, args, paths):
        self.port = free_port()
        self.log = Path(tempfile.gettempdir()) / f"aia_bench_load_{os.getpid()}.log"
        self.command = odoo_command(
            args,
            paths,
            f"--workers={args.workers}",
            "--max-cron-threads=0",
            f"--http-interface={HOST}",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--db-filter=^{re.escape(args.database)}$",
            "--no-database-list",
            f"--logfile={self.log}",
            "--log-level=info",
        )
        self.process = None

    def start(self, timeout=180):
        self.process = subprocess.Popen(self.command, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(OSError):
                connection = HTTPConnection(HOST, self.port, timeout=10)
                try:
                    connection.request("GET", "/aia/v1/healthz")
                    if connection.getresponse().status == 200:
                        return
                finally:
                    connection.close()
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer /aia/v1/healthz within {timeout} s; see {self.log}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # The process group holds the prefork master and its workers, all started here.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def read_log(self):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        # Request id -> (status, milliseconds in Odoo), as the API logs each request it served.
        served = {request_id: (int(status), int(ms)) for request_id, status, ms in API_LOG.findall(text)}
        counts = {
            "ERROR lines": len(re.findall(r"^\S+ \S+ \d+ ERROR ", text, re.M)),
            "tracebacks": text.count("Traceback (most recent call last)"),
            "workers killed (time/memory limits)": len(WORKER_KILLS.findall(text)),
        }
        return served, counts


class QueueProxy:
    """A TCP relay on 127.0.0.1 that accepts every client at once and opens at most ``maxconn``
    connections to Odoo at a time; the other clients wait in its queue, as behind HAProxy's
    ``maxconn``. Odoo's prefork server alone cannot queue more than its listen backlog."""

    def __init__(self, target_port, maxconn):
        import asyncio

        self.target_port = target_port
        self.maxconn = maxconn
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.port = None
        self.thread = threading.Thread(target=self.loop.run_forever, name="QueueProxy", daemon=True)

    async def _pipe(self, reader, writer):
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _handle(self, client_reader, client_writer):
        import asyncio

        try:
            async with self.slots:
                odoo_reader, odoo_writer = await asyncio.open_connection(HOST, self.target_port)
                upload = asyncio.ensure_future(self._pipe(client_reader, odoo_writer))
                # Odoo closes the connection once it answered (the clients send Connection: close).
                await self._pipe(odoo_reader, client_writer)
                upload.cancel()
                odoo_writer.close()
        finally:
            client_writer.close()

    def start(self):
        import asyncio

        async def serve():
            self.slots = asyncio.Semaphore(self.maxconn)
            self.server = await asyncio.start_server(self._handle, HOST, 0, backlog=4096)
            return self.server.sockets[0].getsockname()[1]

        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(timeout=10)
        return self

    def stop(self):
        import asyncio

        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.server.wait_closed(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


# === CLIENTS === #


@dataclass
class Result:
    phase: str  # warm-up, baseline, faults
    round: int
    client: int
    tag: str
    endpoint: str  # chat, stream
    fault: str = ""
    status: int | str = "unfinished"  # the HTTP status, or the client's exception
    answered: bool = False  # an HTTP status line came back
    outcome: str = ""
    session_id: int | None = None
    text_ok: bool = False
    seconds: float = math.nan
    retry_after: str | None = None

    @property
    def request_id(self):
        return self.tag.replace(" ", "-")

    @property
    def success(self):
        return self.status == 200 and self.outcome == "end_turn" and self.text_ok


def parse_sse(raw):
    events = []
    for block in raw.decode("utf-8", "replace").split("\n\n"):
        data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


def chat(port, result, key, timeout):
    path = f"/aia/v1/agents/{AGENT_CODE}/chat" + ("/stream" if result.endpoint == "stream" else "")
    body = json.dumps({"message": f"{QUESTION} [{result.tag}]"})
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Connection": "close",
        "X-Request-Id": result.request_id,
    }
    started = time.perf_counter()
    connection = HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        result.answered = True
        result.status = response.status
        result.retry_after = response.headers.get("Retry-After")
        raw = response.read()
        result.seconds = time.perf_counter() - started
        if result.endpoint == "stream" and response.status == 200:
            events = parse_sse(raw)
            result.session_id = int(response.headers.get("X-Aia-Session-Id") or 0) or None
            errors = [event for event in events if event.get("type") == "error"]
            done = [event for event in events if event.get("type") == "done"]
            text = "".join(event["text"] for event in events if event.get("type") == "text_delta")
            stop = done[-1]["stop_reason"] if done else "no done event"
            result.outcome = f"error: {errors[-1]['code']}" if errors else stop
            result.text_ok = text == ANSWER and bool(done) and done[-1].get("text") == ANSWER
        else:
            data = json.loads(raw or b"{}")
            result.session_id = data.get("session_id")
            error = data.get("error")
            if error:
                result.outcome = f"error: {error.get('code')}"
            else:
                events = data.get("events", [])
                result.outcome = next((e["stop_reason"] for e in events if e.get("type") == "done"), "?")
            result.text_ok = data.get("text") == ANSWER
    except (OSError, ValueError) as exc:
        result.seconds = time.perf_counter() - started
        result.status = f"{'' if result.answered else 'no answer: '}{type(exc).__name__}"
    finally:
        connection.close()


def new_results(phase, round_, run_id, count, stream_share, plan=None):
    letter = {"warm-up": "w", "baseline": "b", "faults": "f"}[phase]
    stream_clients = round(count * stream_share)
    results = []
    for client in range(count):
        tag = f"bench {run_id} {letter}{round_} {client}"
        endpoint = "stream" if client < stream_clients else "chat"
        results.append(Result(phase, round_, client, tag, endpoint, (plan or {}).get(tag, "")))
    return results


def run_phase(port, results, keys, args):
    """Every client sends its chat, all released at once; waits at most ``--phase-timeout``."""
    barrier = threading.Barrier(len(results) + 1)

    def worker(result):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=60)
        chat(port, result, keys[result.client], args.request_timeout)

    threads = [threading.Thread(target=worker, args=(result,), daemon=True) for result in results]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    started = time.monotonic()
    deadline = started + args.phase_timeout
    loads = []  # the 1-minute load average, sampled each second while the phase runs
    while (alive := [thread for thread in threads if thread.is_alive()]) and time.monotonic() < deadline:
        loads.append(os.getloadavg()[0])
        alive[0].join(min(1.0, max(0.0, deadline - time.monotonic())))
    wall = time.monotonic() - started
    load = sum(loads) / len(loads) if loads else os.getloadavg()[0]
    label = f"{results[0].phase} round {results[0].round}"
    print(f"{label}: {len(results)} chats in {wall:.1f} s (load average {load:.1f})", flush=True)
    return f"{wall:.1f} (load {load:.1f})"


def fault_plan(results, share, seed):
    """Which chats of a faulty phase get which fault: ``share`` of them, the kinds in turn."""
    chosen = random.Random(seed).sample(results, round(len(results) * share))
    return {result.tag: FAULTS[index % len(FAULTS)] for index, result in enumerate(chosen)}


# === CHECKS === #


def check_database(registry, results, user_ids, since, served):
    """Per request: its user message saved? Per session of the run: a clear end state?"""
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        messages = env["aia.message"].search_read(
            [("role", "=", "user"), ("session_id.user_id", "in", user_ids), ("create_date", ">=", since)],
            ["body", "session_id"],
        )
        sessions = env["aia.session"].search_read(
            [("user_id", "in", user_ids), ("create_date", ">=", since)],
            ["state", "error_message", "last_text"],
        )
    saved = collections.defaultdict(list)
    for message in messages:
        for tag in TAG.findall(message["body"] or ""):
            saved[tag].append(message["session_id"][0])
    verdicts = collections.defaultdict(list)
    for result in results:
        found = saved.get(result.tag, [])
        if len(found) > 1:
            verdicts["saved twice"].append(result)
        if found:
            verdicts["saved"].append(result)
            if result.session_id and result.session_id not in found:
                verdicts["saved in another session than the answer names"].append(result)
        elif (
            result.answered
            and isinstance(result.status, int)
            and result.status >= 400
            and not result.session_id
        ):
            verdicts["refused before the turn (HTTP error, no session)"].append(result)
        elif not result.answered and result.request_id not in served:
            verdicts["connection reset before Odoo accepted it (not in Odoo's log)"].append(result)
        else:
            verdicts["LOST"].append(result)
    unclear = [
        session
        for session in sessions
        if session["state"] not in ("done", "error")
        or (session["state"] == "error" and not session["error_message"])
    ]
    with_message = {message["session_id"][0] for message in messages}
    unclear += [session for session in sessions if session["id"] not in with_message]
    unclear += [
        session for session in sessions if session["state"] == "done" and session["last_text"] != ANSWER
    ]
    errors = collections.Counter(
        (session["error_message"] or "")[:100] for session in sessions if session["state"] == "error"
    )
    return {
        "verdicts": verdicts,
        "sessions": len(sessions),
        "states": collections.Counter(session["state"] for session in sessions),
        "unclear": unclear,
        "errors": errors,
    }


# === REPORT === #


def percentile(values, q):
    """Nearest-rank percentile."""
    values = sorted(values)
    if not values:
        return math.nan
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def p50_p95(results, served=None):
    """Client latency of the successful chats, or their time in Odoo (from its log) with ``served``."""
    if served is None:
        ms = [result.seconds * 1000 for result in results if result.success]
    else:
        ms = [served[r.request_id][1] for r in results if r.success and r.request_id in served]
    return percentile(ms, 50), percentile(ms, 95)


def latency_row(label, results, base, served, served_base):
    p50, p95 = p50_p95(results)
    o50, o95 = p50_p95(results, served)
    ok = sum(result.success for result in results)
    return (
        f"| {label} | {ok} / {len(results)} | {p50:.0f} | {p95:.0f} | {p50 / base[0]:.2f}x | "
        f"{p95 / base[1]:.2f}x | {o50:.0f} | {o95:.0f} | {o50 / served_base[0]:.2f}x | "
        f"{o95 / served_base[1]:.2f}x |"
    )


def report(args, results, walls, checks, server, served, log_counts, revision):
    baseline = [r for r in results if r.phase == "baseline"]
    faulty = [r for r in results if r.phase == "faults"]
    print()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}; load average now {load}")
    print(f"date: {datetime.date.today()}; code: {revision}")
    print(
        f"command: .venv/bin/python bench/api_load_faults.py --clients {args.clients} --rounds {args.rounds} "
        f"--workers {args.workers} --fault-share {args.fault_share} --seed {args.seed}"
        + (f" --revision {args.revision}" if args.revision else "")
        + (f" --queue-proxy {args.queue_proxy}" if args.queue_proxy else "")
    )
    print("phase wall times (s): " + ", ".join(f"{label} {wall}" for label, wall in walls))
    print()
    rows = [
        ("baseline, no faults", baseline, baseline),
        ("with faults, all", faulty, baseline),
        ("with faults, the chats given no fault", [r for r in faulty if not r.fault], baseline),
        *((f"with faults, {fault}", [r for r in faulty if r.fault == fault], baseline) for fault in FAULTS),
    ]
    for endpoint in ("chat", "stream"):
        base_endpoint = [r for r in baseline if r.endpoint == endpoint]
        rows.append((f"baseline, /{endpoint} only", base_endpoint, base_endpoint))
        rows.append(
            (f"with faults, /{endpoint} only", [r for r in faulty if r.endpoint == endpoint], base_endpoint)
        )
    print(
        "| chats | successful / sent | p50 (ms) | p95 (ms) | p50 / baseline | p95 / baseline "
        "| in Odoo p50 (ms) | in Odoo p95 (ms) | p50 / baseline | p95 / baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, chats, base in rows:
        print(latency_row(label, chats, p50_p95(base), served, p50_p95(base, served)))
    print()
    print("| phase | fault injected | endpoint | HTTP status | outcome | requests |")
    print("|---|---|---|---|---|---|")
    mix = collections.Counter(
        (
            r.phase,
            r.fault or "none",
            r.endpoint,
            str(r.status) + (f", Retry-After {r.retry_after}" if r.retry_after else ""),
            r.outcome + (" (wrong text)" if r.outcome == "end_turn" and not r.text_ok else ""),
        )
        for r in results
        if r.phase != "warm-up"
    )
    for (phase, fault, endpoint, status, outcome), count in sorted(mix.items()):
        print(f"| {phase} | {fault} | /{endpoint} | {status} | {outcome} | {count} |")
    print()
    print(f"fake provider answers: {dict(sorted(server.served.items()))}")
    verdicts = checks["verdicts"]
    print(f"user messages of {len(results)} requests (warm-up included):")
    for verdict in (
        "saved",
        "refused before the turn (HTTP error, no session)",
        "connection reset before Odoo accepted it (not in Odoo's log)",
        "saved twice",
        "saved in another session than the answer names",
        "LOST",
    ):
        print(f"  {verdict}: {len(verdicts.get(verdict, []))}")
    print(
        f"sessions of the run: {checks['sessions']}, states {dict(checks['states'])}; "
        f"not done/error, or error without a message: {len(checks['unclear'])}"
    )
    for message, count in checks["errors"].most_common():
        print(f"  error message x {count}: {message}")
    for result in verdicts.get("LOST", [])[:20]:
        print(f"  LOST: {result}")
    for session in checks["unclear"][:20]:  # also: no user message, done with a wrong answer
        print(f"  UNCLEAR SESSION: {session}")
    print(f"Odoo log: {log_counts}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent clients; the full run is 200 (default 32)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="baseline + faulty phases (default 3)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fault-share", type=float, default=0.4, help="faulty chats per faulty phase")
    parser.add_argument("--stream-share", type=float, default=0.5, help="clients using /chat/stream")
    parser.add_argument("--event-delay", type=float, default=0.01, help="seconds before each SSE event")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--request-timeout", type=float, default=150)
    parser.add_argument("--phase-timeout", type=float, default=300)
    parser.add_argument("--database", default="aia_bench_load")
    parser.add_argument("--db-host", default=HOST)
    parser.add_argument("--db-port", type=int, default=5432)
    parser.add_argument("--db-user", default="root")
    parser.add_argument("--odoo-bin", default=str(Path(sys.executable).with_name("odoo")))
    parser.add_argument("--addons-path", default=None, help="default: scripts/addons_path.sh")
    parser.add_argument("--revision", default=None, help="run the addons of this commit (git archive)")
    parser.add_argument(
        "--queue-proxy",
        type=int,
        default=0,
        metavar="MAXCONN",
        help="send the chats through a local relay that queues clients and opens at most MAXCONN "
        "connections to Odoo (default 0: clients connect to Odoo directly)",
    )
    args = parser.parse_args()
    if args.db_host not in (HOST, "localhost"):
        parser.error("the run only talks to 127.0.0.1")

    source_dir = tempfile.mkdtemp(prefix="aia_bench_load_src_") if args.revision else None
    try:
        return run(args, source_dir)
    finally:
        if source_dir:
            shutil.rmtree(source_dir, ignore_errors=True)


def run(args, source_dir):
    if source_dir:
        revision = export_revision(args.revision, source_dir)
    else:
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        )
        revision = f"{described.stdout.strip()} (work tree)"
    paths = addons_path(args, source_dir or ROOT)
    ensure_database(args, paths)
    registry = open_registry(args, paths)
    server = fault_server_class()(event_delay=args.event_delay).start()
    odoo_server = OdooServer(args, paths)
    run_id = uuid.uuid4().hex[:8]
    results, walls = [], []
    proxy = None
    try:
        since = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
        since -= datetime.timedelta(seconds=1)
        keys, user_ids = configure(registry, server.url, args.clients)
        print(f"configured {args.clients} API users and keys; fake provider at {server.url}", flush=True)
        odoo_server.start()
        print(f"Odoo on {HOST}:{odoo_server.port}, {args.workers} workers, log {odoo_server.log}", flush=True)
        port = odoo_server.port
        if args.queue_proxy:
            proxy = QueueProxy(odoo_server.port, args.queue_proxy).start()
            port = proxy.port
            print(f"clients go through a queueing relay on {HOST}:{port} (maxconn {args.queue_proxy})")
        # Each worker loads the registry on its first request: not measured.
        warmup = new_results("warm-up", 0, run_id, min(args.clients, 4 * args.workers), args.stream_share)
        run_phase(port, warmup, keys, args)
        results += warmup
        for round_ in range(args.rounds):
            baseline = new_results("baseline", round_, run_id, args.clients, args.stream_share)
            walls.append((f"baseline {round_}", run_phase(port, baseline, keys, args)))
            faulty = new_results("faults", round_, run_id, args.clients, args.stream_share)
            plan = fault_plan(faulty, args.fault_share, args.seed + round_)
            server.plan.update(plan)
            for result in faulty:
                result.fault = plan.get(result.tag, "")
            walls.append((f"faults {round_}", run_phase(port, faulty, keys, args)))
            results += baseline + faulty
    finally:
        if proxy is not None:
            proxy.stop()
        odoo_server.stop()
        server.stop()
    served, log_counts = odoo_server.read_log()
    checks = check_database(registry, results, user_ids, since, served)
    report(args, results, walls, checks, server, served, log_counts, revision)
    return 1 if checks["verdicts"].get("LOST") or checks["unclear"] else 0


if __name__ == "__main__":
    sys.exit(main())
