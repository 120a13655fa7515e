"""Answers as the chat shows them: a model's Markdown rendered to sanitized HTML.

Models write Markdown (headings, lists, tables, code, links). It is rendered with markdown-it-py
(CommonMark, tables, strikethrough) with raw HTML off, so any markup the text holds (a model's,
or a record's it quotes) is shown as text; then Odoo's ``html_sanitize`` cleans the result again.
Links open in a new tab without access to the chat (``noopener``); only http(s) and mailto links
are kept (markdown-it refuses ``javascript:`` and ``data:``); images are not rendered at all (an
answer could otherwise make the browser fetch an address that carries data out). Record
references such as ``res.partner,42`` become links to the record's form, for models that exist
(opening it checks the user's rights as always).
"""

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from odoo.tools import html_sanitize

_RECORD_REF = re.compile(r"\b([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+),(\d+)\b")
_SAFE_LINK = re.compile(r"^(https?:|mailto:|/odoo/)", re.IGNORECASE)


def _markdown():
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")
    md.core.ruler.push("aia_links", _links)
    return md


def _links(state):
    """Record references become links; every link opens safely, or is dropped to its text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children = []
        depth = 0  # inside a link: its text is left as written
        for token in block.children:
            if token.type == "link_open":
                depth += 1
                if not _SAFE_LINK.match(token.attrGet("href") or ""):
                    token.attrSet("href", "#")
                token.attrSet("target", "_blank")
                token.attrSet("rel", "noopener noreferrer")
            elif token.type == "link_close":
                depth -= 1
            if token.type == "text" and not depth and _RECORD_REF.search(token.content):
                children += _record_links(state, token.content)
            else:
                children.append(token)
        block.children = children


def _record_links(state, text):
    env = state.env["env"]
    tokens, position = [], 0
    for match in _RECORD_REF.finditer(text):
        model, record_id = match.group(1), match.group(2)
        if model not in env:
            continue
        tokens.append(_text(text[position : match.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": f"/odoo/{model}/{record_id}", "data-oe-model": model, "data-oe-id": record_id}
        tokens += [link, _text(match.group(0)), Token("link_close", "a", -1)]
        position = match.end()
    tokens.append(_text(text[position:]))
    return tokens


def _text(content):
    token = Token("text", "", 0)
    token.content = content
    return token


MARKDOWN = _markdown()


def render_markdown(env, text):
    """``text`` (Markdown) as sanitized HTML; ``env`` tells which record models exist."""
    if not text:
        return Markup("")
    html = MARKDOWN.render(text, {"env": env})
    return html_sanitize(html, sanitize_attributes=True, sanitize_style=True, strip_classes=False)
