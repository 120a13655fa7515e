"""Key-shaped secrets found anywhere in text, near misses that must stay, and the storage cap.

Sample keys are assembled at run time so no complete key-shaped string sits in the source.
"""

from __future__ import annotations

import pytest

from ai_engine.redaction import REDACTED, CappedText, StreamRedactor, cap_text, redact, redact_text

BODY = "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8"  # 36 characters, letters and digits

SECRETS = {
    "openai": "sk-" + BODY + "xYz9",
    "openai project": "sk-" + "proj-" + BODY + "_-" + BODY,
    "anthropic": "sk-" + "ant-api03-" + BODY + BODY,
    "github classic": "ghp" + "_" + BODY,
    "github oauth": "gho" + "_" + BODY,
    "github fine-grained": "github" + "_pat_" + "11ABCDEFG0" + BODY[:12] + "_" + BODY + BODY[:23],
    "aws access key id": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws session key id": "ASIA" + "Y34FZKBOKMUTVV7A",
    "slack bot": "xoxb" + "-1234567890-0987654321-" + BODY[:24],
    "slack user": "xoxp" + "-1234567890-0987654321-" + BODY[:24],
    "jwt": "eyJ"
    + "hbGciOiJIUzI1NiJ9.eyJ"
    + "zdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_key_shaped_tokens_are_masked_anywhere_in_text(kind):
    secret = SECRETS[kind]
    for text in (
        secret,
        f"use {secret} here",
        f'{{"key": "{secret}"}}',
        f"url?key={secret}&x=1",
        f"({secret}).",
    ):
        masked = redact_text(text)
        assert secret not in masked and REDACTED in masked, text
    assert redact({"note": f"the key is {secret}."}) == {"note": f"the key is {REDACTED}."}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer " + BODY, "Authorization: Bearer " + REDACTED),
        ("authorization: basic dXNlcjpwYXNzd29yZA==", "authorization: basic " + REDACTED),
        ('{"Authorization": "Token ' + BODY + '"}', '{"Authorization": "Token ' + REDACTED + '"}'),
        ("Authorization=" + BODY + "; next", "Authorization=" + REDACTED + "; next"),
        ("curl -H 'X-API-Key: " + BODY + "' https://x", "curl -H 'X-API-Key: " + REDACTED + "' https://x"),
        ("header Bearer " + BODY + " was sent", "header Bearer " + REDACTED + " was sent"),
        ("bearer abc123def456", "bearer " + REDACTED),
    ],
)
def test_authorization_values_and_bearer_tokens_are_masked(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We use sk-learn and scikit-learn for the forecast.",
        "The task-force met; risk-assessment-for-the-whole-company is due.",
        "sk-this-is-a-very-long-hyphenated-slug-without-digits",
        "ghp_short and github_pattern matching",
        "AKIA is not a key; AKIAIOSFODNN7EXAMPL is too short, AKIAIOSFODNN7EXAMPLE1 too long.",
        "xoxo-hugs-and-kisses-from-the-whole-team",
        "Bearer bonds are issued to the bearer of the certificate.",
        "Authorization: pending approval from the manager.",
        "Authorization required; ask the manager.",
        "The token is valid; secret ingredient; password reset done.",
        "Invoice INV/2026/00042 for 1,234.56 EUR, ref ASK-2026-0001.",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == text


def test_card_numbers_and_ibans_are_still_masked_in_text():
    masked = redact_text("card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00")
    assert masked == f"card **** 1111, iban {REDACTED}"


def test_redacting_twice_changes_nothing_more():
    once = redact_text(f"Authorization: Bearer {BODY} and {SECRETS['openai']} and 4111111111111111")
    assert redact_text(once) == once


def test_cap_text_keeps_short_text_and_says_how_much_it_cut():
    assert cap_text("short", 10) == CappedText("short", 0)
    capped = cap_text("x" * 1000, 100)
    assert len(capped.text) <= 100 and capped.cut == 1000 - capped.text.count("x")
    assert capped.text.endswith(f"[truncated: {capped.cut} more characters]")
    assert cap_text("x" * 30, 5) == CappedText("xxxxx", 25)


def test_a_secret_streamed_in_pieces_is_never_shown():
    """A key split over deltas is redacted in what is released; the whole is redact_text's."""
    text = "Your key is sk-ant-api03-Zq8x7Yw6Vu5Ts4Rq3Po2Nm1Lk0 and the card 4111 1111 1111 1111, thanks."
    redactor = StreamRedactor()
    released = [redactor.feed(text[i : i + 3]) for i in range(0, len(text), 3)]
    released.append(redactor.finish())
    shown = "".join(released)
    assert shown == redact_text(text)
    assert "Zq8x7" not in shown and "4111 1111 1111 1111" not in shown
    assert any(released[:-1]), "text before the tail is released while it streams"


def test_a_long_run_without_spaces_streams_through():
    """A JSON answer or a long URL is one run of non-space text: it is held back as one word and
    released whole, never split into words (a planner's JSON plan once took seconds per delta).
    With the word split in every possible way, this test does not end."""
    plan = '{"steps": [{"id": "stock", "agent": "warehouse", "task": "Count the late receipts."}]}' * 4
    url = "https://example.com/" + "a" * 400
    for text in (plan, url, f"See {url} for the list"):
        redactor = StreamRedactor()
        released = [redactor.feed(text[i : i + 7]) for i in range(0, len(text), 7)]
        released.append(redactor.finish())
        assert "".join(released) == redact_text(text)
    held = StreamRedactor()
    assert held.feed(f"{url} and then ten more words one two three four five six seven") == f"{url} and then "
