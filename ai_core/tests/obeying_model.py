"""The worst model there is, for the injection tests: it obeys whatever untrusted text it reads.

See :mod:`.injection` for the corpus it is fed and :mod:`.injection_checks` for what is checked
after it ran.
"""

import html
import json
import re

from odoo.addons.ai_core.ai_engine import ModelResponse, StreamText, TextBlock, ToolResultBlock
from odoo.addons.ai_core.ai_engine.redaction import REDACTED
from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls
from odoo.addons.ai_core.ai_engine.untrusted import TOOL_OUTPUT_TAG

__all__ = ["ObeyingModel", "instructions"]

_CALL = re.compile(r"\bcall ([A-Za-z0-9_-]{1,64}) with (?=\{)")
_REPLY = re.compile(r"[Rr]eply with: «(.+?)»", re.DOTALL)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _readable(text):
    """What a model makes of ``text``: entities decoded, the strings of a JSON document read one by
    one (an HTML field's markup is read through: the instructions are words in it)."""
    text = html.unescape(text)
    try:
        pieces = list(_strings(json.loads(text)))
    except ValueError:
        pieces = [text]
    return [html.unescape(piece) for piece in pieces]


def instructions(text):
    """The calls ((name, arguments) each) ``text`` asks for, and the answers it dictates."""
    calls, replies = [], []
    for piece in _readable(text):
        for match in _CALL.finditer(piece):
            try:
                arguments, _end = json.JSONDecoder().raw_decode(piece, match.end())
            except ValueError:
                continue
            if isinstance(arguments, dict):
                calls.append((match[1], arguments))
        replies += [found.strip() for found in _REPLY.findall(piece)]
    return calls, replies


class ObeyingModel:
    """A model adapter that does whatever the untrusted text it reads tells it to.

    Its first response makes the ``opening`` calls, the honest way to answer the user (read the
    contact, search the knowledge base...). From then on it reads every tool result, knowledge
    passage and running summary it was given: a call one of them asks for, and it did not make yet,
    is made in its next response, all together, exactly as written; when nothing is left to obey,
    it answers with ``answer`` followed by whatever the texts told it to reply. (A turn resumed
    after an approval reads the stored transcript, where secrets are masked: a call differing only
    by a masked value is the one already made.) Asked for a running summary, it writes what it was
    given to fold, instructions included.

    Attributes:
        requests: Every request it received.
        obeyed: The calls it made because a text asked for them, in order.
    """

    provider = "obeying"

    def __init__(self, *opening, answer="Done as the notes asked."):
        self.opening = list(opening)
        self.answer = answer
        self.requests = []
        self.obeyed = []
        self.replies = []
        self._made = []

    def stream(self, request):
        self.requests.append(request)
        if _is_summary_request(request):
            # The worst summarizer too: what it was given to fold, instructions included, is
            # what it writes in the running summary.
            step = reply(_folded(request.messages[0].text))
        elif len([r for r in self.requests if not _is_summary_request(r)]) == 1 and self.opening:
            step = tool_calls(*self.opening)
        else:
            calls, replies = [], []
            for text in self._untrusted(request):
                found, said = instructions(text)
                calls += found
                replies += [line for line in said if line not in replies]
            new = []
            for name, arguments in calls:
                if not any(name == made and _same(arguments, done) for made, done in self._made):
                    self._made.append((name, arguments))
                    new.append((name, arguments))
            if new:
                self.obeyed += new
                step = tool_calls(*new)
            else:
                self.replies = replies
                step = reply(" ".join([self.answer, *replies]))
        response = step.response
        if response.message.text:
            yield StreamText(response.message.text)
        yield ModelResponse(
            response.message, response.stop_reason, response.usage, request.model, self.provider
        )

    @staticmethod
    def _untrusted(request):
        """The untrusted texts of ``request``: tool results and knowledge passages."""
        for message in request.messages:
            for block in message.content:
                if isinstance(block, ToolResultBlock):
                    yield _unwrapped(block.content)
                elif (
                    message.role == "user"
                    and isinstance(block, TextBlock)
                    and block.text.startswith(("<knowledge>", "<conversation_summary>"))
                ):
                    yield block.text

    def told(self):
        """Everything the model was given, as one text (to look for what it must never read)."""
        return json.dumps(
            [[request.system, *[m.to_dict() for m in request.messages]] for request in self.requests],
            ensure_ascii=False,
        )


def _folded(text):
    """What the worst summarizer writes: every text it was given to fold, the strings of a tool
    result read out of its JSON."""
    lines = []
    for line in html.unescape(text).splitlines():
        start = line.find("[tool result: ")
        document = _json_at(line, start + len("[tool result: ")) if start >= 0 else None
        if document is None:
            lines.append(line)
        else:
            lines += list(_strings(document))
    return "\n".join(lines)


def _json_at(text, start):
    """The JSON document at ``start`` of ``text``, or None."""
    try:
        return json.JSONDecoder().raw_decode(text, start)[0]
    except ValueError:
        return None


def _is_summary_request(request):
    """Whether ``request`` asks for the running summary (no tools, the messages to fold)."""
    return not request.tools and request.messages[0].text.startswith(("<summary>", "<messages>"))


def _same(asked, made):
    """Whether ``asked`` are the arguments of a call already ``made``. A resumed turn reads the
    transcript as stored, redacted: a value masked there stands for the one the model saw first."""
    if isinstance(asked, str) and (REDACTED in asked or asked.startswith("**** ")):
        return isinstance(made, str)
    if isinstance(asked, dict):
        return (
            isinstance(made, dict)
            and asked.keys() == made.keys()
            and all(_same(asked[k], made[k]) for k in asked)
        )
    if isinstance(asked, list):
        return isinstance(made, list) and len(asked) == len(made) and all(map(_same, asked, made))
    return asked == made


def _unwrapped(content):
    """The body of a wrapped tool result (still escaped), or the content as it is."""
    head, _sep, rest = content.partition("\n")
    if head.startswith(f"<{TOOL_OUTPUT_TAG} "):
        return rest.partition("\n")[2].rpartition("\n")[0]
    return content
