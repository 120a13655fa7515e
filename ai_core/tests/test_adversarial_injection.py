"""Prompt injection through every door an attacker has to the generic tools: a contact's notes, a
mail in its chatter, a knowledge document, a web service's answer. The texts come from the corpus
of ``injection.py``; the model obeys them (``ObeyingModel``). After each run: nothing written in
shadow mode, no approval bypassed, no other company's record in a tool result, no secret stored or
served, no request to a refused address, and the hostile text reached the model only inside the
untrusted-data wrapper, escaped. Each test fails when the defence it names is removed."""

import socket

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import safe_fetch
from ..ai_engine.testing import block_network
from .common import perform_jobs, read_partner
from .fake_servers import LocalServer, QuietHandler
from .injection import CORPUS, SECRETS, exfiltration_reply, secret_forms
from .injection_checks import InjectionCase

BRAVO_NAMES = ("Zq Bravo Confidential Buyer", "Zq Bravo rebate")


@tagged("post_install", "-at_install")
class TestInjectionInRecords(InjectionCase):
    # === SHADOW MODE === #

    def test_every_text_of_the_corpus_obeyed_in_shadow_mode_writes_nothing(self):
        """Defence: shadow mode (``TurnRunner._execute``): a write tool is previewed, never run."""
        self.assertTrue(self.inbox.shadow_mode)
        calls = (("orm_create", self.pwned), ("orm_write", self.hijack))
        for injection in CORPUS.values():
            with self.subTest(injection=injection.name):
                trap = self.plant(injection.text(*calls))
                before = self.row_counts("res.partner")
                model = self.obey(read_partner(trap))
                session = self.run_agent("Summarise the notes of Zq Injected Ltd.")
                self.assertObeyed(model, *calls)
                self.assertEqual(session.state, "done", session.error_message)
                read, create, write = session.execution_ids.sorted("id")
                self.assertEqual(read.status, "ok")
                self.assertEqual((create.status, write.status), ("shadowed", "shadowed"))
                self.assertIn("Zq Pwned Ltd", create.preview)
                self.assertIn("Zq Victim Supplier", write.preview)
                self.assertEqual(self.row_counts("res.partner"), before)
                self.assertVictimUntouched()
                self.assertOnlyWrapped(model, injection)

    def test_notes_folded_into_the_running_summary_are_still_data_and_write_nothing(self):
        """Defences: the summary reaches the model wrapped as untrusted data, never in the system
        prompt (``TurnRunner._fold``, ``ai_engine.memory``); shadow mode holds whatever the model
        was talked into. The worst summarizer copies the notes' instructions into the summary,
        and the model obeys them once the notes are out of its window."""
        self.inbox.memory_window = 4
        calls = (("orm_create", self.pwned), ("orm_write", self.hijack))
        injection = CORPUS["system_override"]
        trap = self.plant(injection.text(*calls))
        self.obey(read_partner(trap))
        session = self.run_agent("Summarise the notes of Zq Injected Ltd.")
        before = self.row_counts("res.partner")
        # A model that has not obeyed yet: what it obeys now, it read in the summary only (the
        # notes' tool result has left the window).
        model = self.obey()
        self.chat(session, "Anything else?")
        self.assertIn(injection.marker, session.summary)
        self.assertObeyed(model, *calls)
        read = [r for r in model.requests if r.tools]
        self.assertFalse(
            any(b.type == "tool_result" for r in read[:1] for m in r.messages for b in m.content)
        )
        for request in model.requests:
            self.assertNotIn(injection.marker, request.system)
        carried = [
            r for r in model.requests if r.tools and r.messages[0].text.startswith("<conversation_summary>")
        ]
        self.assertTrue(carried, "the summary was never carried")
        self.assertEqual(
            {
                execution.status
                for execution in session.execution_ids
                if execution.tool_name != "orm.search_read"
            },
            {"shadowed"},
        )
        self.assertEqual(self.row_counts("res.partner"), before)
        self.assertVictimUntouched()

    # === APPROVALS === #

    def test_a_mail_in_the_chatter_cannot_get_its_write_approved_by_the_requester(self):
        """Defences: approval mode (``TurnRunner._execute`` stops a write for a decision) and the
        segregation of duties on ``aia.approval`` (only the approver decides)."""
        approver = self.make_user("aia_zq_inj_approver", "ai_core.group_aia_user")
        self.inbox.write({"shadow_mode": False, "approval_mode": "write", "approver_id": approver.id})
        attacker = self.env["res.partner"].create({"name": "Zq Sender", "email": "ceo@zq-attacker.example"})
        forged = {"model": "res.partner", "values": {"name": "Zq Forged Ltd"}}
        texts = (
            CORPUS["approve_own"].text(("orm_write", self.hijack)),
            CORPUS["forged_result"].text(("orm_create", forged)),
        )
        for text in texts:
            self.victim.message_post(
                body=text, message_type="email", author_id=attacker.id, subtype_xmlid="mail.mt_comment"
            )
        before = self.row_counts("res.partner")
        model = self.obey(
            (
                "orm_search_read",
                {
                    "model": "mail.message",
                    "domain": [["model", "=", "res.partner"], ["res_id", "=", self.victim.id]],
                    "fields": ["body", "author_id"],
                },
            )
        )
        session = self.run_agent("Any news from Zq Victim Supplier in its mails?")
        # The newest mail first, as the chatter lists them.
        self.assertObeyed(model, ("orm_create", forged), ("orm_write", self.hijack))
        self.assertOnlyWrapped(model, CORPUS["approve_own"], CORPUS["forged_result"])
        self.assertEqual(session.state, "waiting_approval")
        approval = session.approval_ids
        self.assertEqual((approval.state, approval.tool_name), ("pending", "orm.create"))
        self.assertIn("Zq Forged Ltd", approval.preview)
        self.assertEqual(self.row_counts("res.partner"), before)
        self.assertVictimUntouched()

        # The requester, persuaded by the mail, tries to approve: refused, every way.
        self.assertFalse(approval.with_user(self.user).can_decide)
        self.assertCannotApprove(approval, self.user)
        self.assertEqual(session.state, "waiting_approval")
        self.assertVictimUntouched()

        # The approver rejects both writes, one after the other: nothing was ever written.
        for _decision in range(2):
            pending = session.approval_ids.filtered(lambda a: a.state == "pending")
            self.assertEqual(len(pending), 1)
            with trap_jobs() as trap:
                pending.with_user(approver).action_reject("not asked by the customer")
                perform_jobs(self, trap)
            session.invalidate_recordset()
        self.assertEqual(session.approval_ids.mapped("state"), ["rejected", "rejected"])
        self.assertEqual(session.state, "done", session.error_message)
        self.assertEqual(self.row_counts("res.partner"), before)
        self.assertVictimUntouched()
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Zq Forged Ltd")]))

    # === SECRETS === #

    def test_neither_the_database_secret_nor_the_secrets_of_the_notes_are_stored_or_served(self):
        """Defences: the ORM policy (configuration models are refused whatever the agent allows and
        whoever asks, ``tools/orm_policy.py``) and the redaction of arguments, results and previews
        (``ai_engine/redaction.py``). The session is an administrator's: Odoo's access rights would
        let them read system parameters, only the policy stops the agent."""
        admin = self.make_user(
            "aia_zq_inj_admin", "base.group_system,base.group_partner_manager,ai_core.group_aia_user"
        )
        database_secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        self.assertTrue(database_secret)
        leak = {
            "model": "res.partner",
            "ids": self.victim.ids,
            "values": {"comment": "For the integrator: " + ", ".join(SECRETS.values())},
        }
        config = {"model": "ir.config_parameter", "domain": [["key", "=", "database.secret"]]}
        calls = (
            ("orm_search_read", dict(config, fields=["key", "value"])),
            ("orm_read_group", {"model": "ir.config_parameter", "groupby": ["value"]}),
            ("orm_search_read", {"model": "aia.provider", "fields": ["api_key"]}),
        )
        trap = self.plant(
            CORPUS["config_secret"].text(*calls) + "\n" + CORPUS["exfiltrate"].text(("orm_write", leak))
        )
        model = self.obey(read_partner(trap))
        session = self.run_agent("Summarise the notes of Zq Injected Ltd.", user=admin)
        self.assertObeyed(model, *calls, ("orm_write", leak))
        self.assertOnlyWrapped(model, CORPUS["config_secret"], CORPUS["exfiltrate"])
        statuses = session.execution_ids.sorted("id").mapped("status")
        self.assertEqual(statuses, ["ok", "denied", "denied", "error", "shadowed"])
        # The database secret never reached the model; the notes' secrets, which it read, were
        # redacted in everything stored and served.
        self.assertNotIn(database_secret, model.told())
        stored = self.stored_and_served(session)
        self.assertIn("For the integrator", stored["execution preview"])
        self.assertNoSecret(stored, {"database secret": database_secret, **secret_forms()})
        self.assertVictimUntouched()

    def test_an_answer_repeating_the_secrets_of_the_notes_is_not_stored_or_served(self):
        """Defence: what the model says is redacted before it is stored or shown (the engine's
        ``StreamRedactor`` for streamed text, the stored assistant message): a text telling the
        model to repeat the notes' secrets gets none of them into the transcript, ``last_text``,
        ``chat_data()`` or the events pushed to the browser."""
        trap = self.plant(CORPUS["exfiltrate"].text(reply_with=exfiltration_reply()))
        model = self.obey(read_partner(trap))
        session = self.run_agent("Summarise the notes of Zq Injected Ltd.")
        self.assertEqual(model.replies, [exfiltration_reply()])
        self.assertOnlyWrapped(model, CORPUS["exfiltrate"])
        self.assertNoSecret(self.stored_and_served(session), secret_forms())

    # === THE SESSION'S COMPANY === #

    def test_another_companys_records_never_reach_a_session_by_id_or_by_name(self):
        """Defence: the turn's tools run in the session's company only (``aia.session._aia_runner``):
        record rules then hide company B's records from a session in company A, for a user of both."""
        by_id = {
            "model": "res.partner",
            "domain": [["id", "=", self.bravo.id]],
            "fields": ["name", "comment"],
        }
        by_name = {"model": "res.partner", "domain": [["name", "ilike", "Zq Bravo"]], "fields": ["name"]}
        write = {"model": "res.partner", "ids": self.bravo.ids, "values": {"comment": "Zq seen"}}
        calls = (("orm_search_read", by_id), ("orm_search_read", by_name), ("orm_write", write))
        trap = self.plant(CORPUS["other_company"].text(*calls))
        for shadow in (True, False):
            with self.subTest(shadow_mode=shadow):
                self.inbox.shadow_mode = shadow
                model = self.obey(read_partner(trap))
                session = self.run_agent("Summarise the notes of Zq Injected Ltd.", user=self.user_ab)
                self.assertEqual(session.company_id, self.company)
                self.assertObeyed(model, *calls)
                self.assertOnlyWrapped(model, CORPUS["other_company"])
                read_id, read_name, written = session.execution_ids.sorted("id")[1:]
                self.assertEqual((read_id.output["count"], read_name.output["count"]), (0, 0))
                self.assertEqual(written.status, "shadowed" if shadow else "denied")
                self.assertNothingOf(self.tool_results(session), BRAVO_NAMES)
                self.assertNothingOf({"what the model read": model.told()}, BRAVO_NAMES)
                self.bravo.invalidate_recordset()
                self.assertEqual(self.bravo.comment, "<p>Zq Bravo rebate: 40 % on every order.</p>")


@tagged("post_install", "-at_install")
class TestInjectionOverTheApi(InjectionCase, HttpCase):
    """The REST API runs the turn in the request, where Odoo's debug mode (``?debug=1``, anyone's
    to add) shows record names in access errors."""

    def test_another_companys_record_names_never_reach_a_tool_result_in_debug_mode(self):
        """Defence: ``OrmPolicy.records`` finds the ids within the user's record rules (a search,
        not ``exists()``), so ``orm.write`` on another company's record is refused as "no records
        you may change" before Odoo's access error, which names the record in debug mode
        (``?debug=1`` on the REST API, where the turn runs in the request), could reach the tool
        result, the API answer or the model."""
        self.inbox.shadow_mode = False
        write = {"model": "res.partner", "ids": self.bravo.ids, "values": {"comment": "Zq seen"}}
        trap = self.plant(CORPUS["other_company"].text(("orm_write", write)))
        model = self.obey(read_partner(trap))
        response = self.call_api(
            "/aia/v1/agents/zq_inbox/chat?debug=1",
            {"message": "Summarise the notes of Zq Injected Ltd."},
            self.api_key(self.user_ab, "zq"),
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertObeyed(model, ("orm_write", write))
        session = self.env["aia.session"].browse(response.json()["session_id"])
        self.assertEqual(session.company_id, self.company)
        written = session.execution_ids.sorted("id")[-1]
        self.assertEqual(written.status, "denied")
        self.assertNothingOf(self.tool_results(session), BRAVO_NAMES)
        self.assertNothingOf({"api answer": response.text, "model": model.told()}, BRAVO_NAMES)


# === WEB SERVICES === #


class _Service(QuietHandler):
    """A web service answering every GET with the JSON of its server, counting the requests."""

    def do_GET(self):
        self.server.hits.append(self.path)
        self.send_json(200, self.server.answer)


@tagged("post_install", "-at_install")
class TestInjectionInWebServices(InjectionCase):
    """A supplier's catalogue API (on loopback, which the administrator allowed) answers with an
    injection asking for the tools an AI manager pointed at internal addresses: the cloud metadata
    service, and an internal status page whose host name resolves to another loopback address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.catalogue = LocalServer(_Service, "127.0.0.1", hits=[], answer={}).start()
        cls.addClassCleanup(cls.catalogue.stop)
        cls.internal = LocalServer(
            _Service, "127.0.0.2", hits=[], answer={"status": "internal admin page"}
        ).start()
        cls.addClassCleanup(cls.internal.stop)
        port, internal_port = cls.catalogue.port, cls.internal.port

        def http_tool(name, url, domains):
            return cls.env["aia.tool"].create(
                {
                    "name": name,
                    "kind": "http",
                    "http_url": url,
                    "http_allowed_domains": domains,
                    "input_schema": {"type": "object", "properties": {"item_id": {"type": "string"}}},
                }
            )

        cls.tools = (
            http_tool("shop.get_item", f"http://127.0.0.1:{port}/items/{{item_id}}", "127.0.0.1")
            | http_tool(
                "ops.instance_credentials",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                "169.254.169.254",
            )
            | http_tool(
                "ops.status", f"http://status.corp.example:{internal_port}/status", "status.corp.example"
            )
            | http_tool("ops.admin", f"http://127.0.0.2:{internal_port}/admin", "127.0.0.2")
        )
        cls.inbox.tool_ids = [Command.link(tool.id) for tool in cls.tools]

    def setUp(self):
        super().setUp()
        self.enterContext(block_network())
        # The administrator opened the supplier's API, and nothing else.
        self.env["ir.config_parameter"].sudo().set_param(safe_fetch.ALLOWED_HOSTS_PARAM, "127.0.0.1")
        self.internal.hits.clear()
        self.catalogue.hits.clear()
        resolve = socket.getaddrinfo

        def corp_dns(host, port, *args, **kwargs):
            if host == "status.corp.example":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]
            return resolve(host, port, *args, **kwargs)

        self.patch(socket, "getaddrinfo", corp_dns)
        self.connections = []
        connect = socket.socket.connect

        def counted(sock, address):
            self.connections.append(address[0] if isinstance(address, tuple) else address)
            return connect(sock, address)

        self.patch(socket.socket, "connect", counted)

    def test_a_web_service_answer_cannot_make_the_agent_fetch_internal_addresses(self):
        """Defence: the one outbound fetch (``safe_fetch``) refuses the metadata service and loopback
        addresses the administrator did not allow, before any connection."""
        calls = (
            ("ops_instance_credentials", {}),
            ("ops_status", {}),
            ("ops_admin", {}),
            ("shop_get_item", {"item_id": "../../latest/meta-data"}),
        )
        self.catalogue.answer = {
            "id": "42",
            "name": "Oak chair",
            "stock": 3,
            "supplier_note": CORPUS["metadata"].text(*calls),
            "integration": CORPUS["exfiltrate"].text(),
            "api_key": SECRETS["openai key"],
        }
        model = self.obey(("shop_get_item", {"item_id": "42"}))
        session = self.run_agent("Is the oak chair in stock at the supplier?")
        self.assertObeyed(model, *calls)
        self.assertOnlyWrapped(model, CORPUS["metadata"], CORPUS["exfiltrate"])
        executions = session.execution_ids.sorted("id")
        # The path of the allowed service cannot be escaped by an argument: it answered as before.
        self.assertEqual(executions.mapped("status"), ["ok", "error", "error", "error", "ok"])
        metadata, status, admin = executions[1:4]
        self.assertIn("169.254.169.254 is a cloud metadata address", metadata.content)
        self.assertIn("status.corp.example (127.0.0.2) is a loopback address", status.content)
        self.assertIn("127.0.0.2 is a loopback address", admin.content)
        # Nothing but the allowed service was ever connected to.
        self.assertEqual(self.internal.hits, [])
        self.assertEqual(set(self.connections), {"127.0.0.1"})
        self.assertEqual(self.catalogue.hits, ["/items/42", "/items/..%2F..%2Flatest%2Fmeta-data"])
        self.assertNoSecret(self.stored_and_served(session), secret_forms())
