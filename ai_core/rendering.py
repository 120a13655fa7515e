"""Answers as the chat shows them: a model's Markdown rendered to sanitized HTML.

Models write Markdown (headings, lists, tables, code, links). It is rendered with markdown-it-py
(CommonMark, tables, strikethrough) with raw HTML off, so any markup the text holds (a model's,
or a record's it quotes) is shown as text; then Odoo's ``html_sanitize`` cleans the result again.
Links open in a new tab without access to the chat (``noopener``); only http(s) and mailto links
are kept (markdown-it refuses ``javascript:`` and ``data:``); images are not rendered at all (an
answer could otherwise make the browser fetch an address that carries data out). Record
references such as ``res.partner,42`` become links to the record's form, for models that exist
(opening it checks the user's rights as always), and so do the names of the records the turn's
tools returned (:func:`records_in`) where the answer mentions them.
"""

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from odoo.tools import html_sanitize

# Shorter names would link common words; names of more records than this are not looked for.
MIN_NAME_LENGTH = 3
MAX_NAMES = 200
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
            if token.type == "text" and not depth and state.env["pattern"].search(token.content):
                children += _record_links(state, token.content)
            else:
                children.append(token)
        block.children = children


def _record_links(state, text):
    env, names = state.env["env"], state.env["names"]
    tokens, position = [], 0
    for match in state.env["pattern"].finditer(text):
        if match.group("model"):
            model, record_id = match.group("model"), match.group("id")
            if model not in env:
                continue
        else:
            model, record_id = names[match.group(0)]
        tokens.append(_text(text[position : match.start()]))
        link = Token("link_open", "a", 1)
        record_id = str(record_id)
        link.attrs = {"href": f"/odoo/{model}/{record_id}", "data-oe-model": model, "data-oe-id": record_id}
        tokens += [link, _text(match.group(0)), Token("link_close", "a", -1)]
        position = match.end()
    tokens.append(_text(text[position:]))
    return tokens


def _pattern(names):
    """Record references, and the ``names`` as whole words (the longest first)."""
    reference = r"\b(?P<model>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+),(?P<id>\d+)\b"
    if not names:
        return re.compile(reference)
    words = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"{reference}|(?<!\w)(?:{words})(?!\w)")


def records_in(output, record_keys=None):
    """The records a tool's ``output`` names, as (model, id, name): objects that say which record
    they are (``{"model", "id", "display_name"}``, as the ORM tools return), rows listed under
    an object that names their model (``{"model": ..., "records": [{"id", "display_name"}]}``,
    or their ``name``),
    and the rows of ``record_keys`` (``{"customer_id": "res.partner"}``, declared by the tool:
    the row's ``customer_id`` is the id of the record its ``customer`` names)."""
    found = []

    def walk(value, rows_model=None):
        if isinstance(value, list):
            for item in value:
                walk(item, rows_model)
        elif isinstance(value, dict):
            own_model = value.get("model") if isinstance(value.get("model"), str) else None
            model = own_model or rows_model
            _add(found, model, value.get("id"), value.get("display_name", value.get("name")))
            for id_key, key_model in (record_keys or {}).items():
                _add(found, key_model, value.get(id_key), value.get(id_key.removesuffix("_id")))
            for child in value.values():
                # A model named by an object covers the rows of its lists, not deeper objects.
                walk(child, own_model if isinstance(child, list) else None)

    walk(output)
    return found


def _add(found, model, record_id, name):
    if model and isinstance(record_id, int) and not isinstance(record_id, bool) and isinstance(name, str):
        found.append((model, record_id, name.strip()))


def linkable_names(env, records):
    """{name: (model, id)} of ``records`` ((model, id, name) triples) that an answer's text may
    link: names of one record each (a name two records share links neither), long enough, of
    models that exist."""
    targets = {}
    for model, record_id, name in records:
        if len(name) >= MIN_NAME_LENGTH and model in env:
            targets.setdefault(name, set()).add((model, record_id))
    linkable = {name: next(iter(found)) for name, found in targets.items() if len(found) == 1}
    return dict(list(linkable.items())[:MAX_NAMES])


def _text(content):
    token = Token("text", "", 0)
    token.content = content
    return token


MARKDOWN = _markdown()


def render_markdown(env, text, names=None):
    """``text`` (Markdown) as sanitized HTML; ``env`` tells which record models exist; ``names``
    ({name: (model, id)}, see :func:`linkable_names`) are linked to their records."""
    if not text:
        return Markup("")
    names = names or {}
    html = MARKDOWN.render(text, {"env": env, "names": names, "pattern": _pattern(names)})
    return html_sanitize(html, sanitize_attributes=True, sanitize_style=True, strip_classes=False)
