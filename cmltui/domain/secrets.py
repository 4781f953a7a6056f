"""The one secret scrubber: which keys hold secrets, and how secrets are masked in free text.

Used for CML's nested objects (the Smart Licensing token), log records, audit lines and error
texts, so that a password, token or JWT never reaches the screen, the JSON or a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_KEY_PARTS = ("token", "password", "passwd", "secret")
"""Key parts naming a secret. Not "authorization": CML's licensing object has such a block."""
MASK = "***"

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]+")
# A header's credential, after its scheme when it names one (`Authorization: Basic dXNl…`).
_AUTHORIZATION = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:[A-Za-z]+\s+)?)[^\s\"',}]+"
)
# `key=value`, `key: value`, `"key": "value"` (the key may end a longer name: `id_token`).
_KEY_VALUE = re.compile(
    r"(?i)(password|passwd|secret|token)([\"']?\s*[:=]\s*)([\"']?)([^\s\"',}]+)"
)
# A quoted value right after a secret's name: `registration token 'bad-Xy7Q'`.
_QUOTED = re.compile(r"(?i)(password|passwd|secret|token)(\s+)([\"'])[^\"'\n]+\3")
_JWT = re.compile(r"\beyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+")
_PLAIN_WORD = re.compile(r"[A-Za-z]+")
_MORE_WORDS = re.compile(r"\s+\w")


def _key_value(match: re.Match[str]) -> str:
    """The value masked, unless the "value" is the first word of a sentence.

    After `token: ` (colon, then a space, no quote) a plain word followed by more words is
    prose, not a credential: upstream Cloud Manager's "Invalid license token: Invalid
    registration token …" or FastAPI's "license_token: Field required" read as written. A
    value with a digit or a sign, a quoted one, one after `=` and a word that ends the text are
    masked; so is any value after a password's or a secret's name (a password can be a word).
    """
    key, separator, quote, value = match.groups()
    prose = (
        key.lower() == "token"
        and not quote
        and ":" in separator
        and separator[-1].isspace()
        and _PLAIN_WORD.fullmatch(value) is not None
        and _MORE_WORDS.match(match.string, match.end()) is not None
    )
    return match.group(0) if prose else f"{key}{separator}{quote}{MASK}"


def is_secret_key(key: object) -> bool:
    """True for a mapping key that names a secret (`token`, `id_token`, `password`, …)."""
    return isinstance(key, str) and any(part in key.lower() for part in SECRET_KEY_PARTS)


def scrub_text(text: str) -> str:
    """Free text with passwords, tokens, credentials and JWTs masked, the words around them
    kept (bearer and header credentials, `key=value` forms, quoted values after a secret's
    name, any JWT)."""
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
    text = _KEY_VALUE.sub(_key_value, text)
    text = _QUOTED.sub(rf"\1\2\3{MASK}\3", text)
    return _JWT.sub(MASK, text)


def cut_secrets(text: str, secrets: Iterable[str]) -> str:
    """Outside text with each secret cmltui is sending (a registration token) masked, wherever
    it stands. Cut before the text is shortened or scrubbed: a shortened secret is no longer
    found whole."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def without_secret_keys(value: Any) -> Any:
    """A deep copy of a JSON-like value without any key that names a secret."""
    if isinstance(value, Mapping):
        return {k: without_secret_keys(v) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, list | tuple):
        return [without_secret_keys(v) for v in value]
    return value
