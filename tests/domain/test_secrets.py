"""The one secret scrubber: secrets masked, and the prose around them left as written."""

from __future__ import annotations

import pytest

from cmltui.domain.sanitize import error_text
from cmltui.domain.secrets import MASK, cut_secrets, scrub_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login password=hunter2 ok", "hunter2"),
        ("login password = letmein", "letmein"),
        ("password: hunter2", "hunter2"),
        ("password: letmein", "letmein"),  # a word alone after the colon is the value
        ('{"password": "letmein"}', "letmein"),
        ("{'token': 'abc123secret'}", "abc123secret"),
        ('{"id_token": "two words"}', "two"),  # quoted: whatever it holds
        ("license_token=T0ken-Q8fz", "T0ken-Q8fz"),
        ("secret: s3cr3t and more", "s3cr3t"),  # not a plain word: a value
        ("password: hunter is what was sent", "hunter"),  # a password may be a plain word
        ("client_secret: swordfish was rotated", "swordfish"),
        ("client_secret:Abc", "Abc"),  # no space after the colon: a value
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("authorization=Negotiate YIIFyQYGKwYB", "YIIFyQYGKwYB"),
        (f"header Authorization: Bearer {JWT}", JWT),
        ("Bearer abc.def-ghi", "abc.def-ghi"),
        (f"raw {JWT} end", JWT),
        ("Invalid registration token 'bad-Xy7Qz': it was not accepted.", "bad-Xy7Qz"),
        ('the password "correct horse" was refused', "correct horse"),
    ],
)
def test_secrets_are_masked_wherever_they_stand(text, secret):
    scrubbed = scrub_text(text)
    assert secret not in scrubbed and MASK in scrubbed


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (  # upstream Cloud Manager's licence failure, wrapping CML's words
            "Invalid license token: Invalid registration token 'bad-Xy7Qz': it was not accepted.",
            "Invalid license token: Invalid registration token '***': it was not accepted.",
        ),
        (
            "token: a registration token from Smart Licensing is required.",
            "token: a registration token from Smart Licensing is required.",
        ),
        ("body.license_token: Field required", "body.license_token: Field required"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),  # the scheme stays
        ("tokens: 5 left; secrets rotated", "tokens: 5 left; secrets rotated"),
    ],
)
def test_the_words_around_a_secret_read_as_written(text, scrubbed):
    assert scrub_text(text) == scrubbed


def test_a_known_secret_is_cut_whole_before_the_text_is_shortened():
    """A 256-character token inside a longer message: cut before the message is capped, so
    no part of it is left (cutting after the cap would miss the shortened token)."""
    token = ("bad-" + "Q8fz" * 70)[:256]
    message = f"Invalid license token: Invalid registration token {token!r}: it was not accepted."
    shown = error_text(message, secrets=(token,))
    assert all(token[i : i + 8] not in shown for i in range(len(token) - 8))
    assert shown == "Invalid license token: Invalid registration token '***': it was not accepted."
    assert cut_secrets(f"{token}-{token}", (token, "")) == f"{MASK}-{MASK}"
    assert cut_secrets("nothing here", ()) == "nothing here"
