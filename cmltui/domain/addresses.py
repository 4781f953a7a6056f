"""What counts as a worker's address, and where its CML URL may lead (README, "Security").

One rule decides where the CML password may go (the direct backend's target resolver), what
`o` may open in a browser and what the copy menu offers as "CML URL": an http(s) URL in plain
ASCII whose host is an IP address or an RFC 1123 host name, that the instance vouches for (one
of its own addresses) or the operator does (`cml.allowed_hosts`), and that is https unless
`cml.allow_http_hosts` names the host. Addresses (IPs, DNS names) pass `address_problem` before
they are shown as an address or put into the ssh line; anything else is data.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from cmltui.domain.sanitize import visible

MAX_HOST_NAME = 253
MAX_URL = 2048
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_SHOWN_HOST = 80

URL_NOT_TRUSTED = "CML URL not trusted"
URL_TAG_NOT_TRUSTED = "URL tag not trusted"


class UrlTrust(NamedTuple):
    """The operator's word on hosts: which a URL may name besides the instance's own
    addresses, and which may be reached over plain http:// (shell-style patterns). A tuple:
    it is part of a cache key on the refresh path, and hashes at C speed."""

    allowed_hosts: tuple[str, ...] = ()
    allow_http_hosts: tuple[str, ...] = ()

    @classmethod
    def of(cls, allowed_hosts: Iterable[str], allow_http_hosts: Iterable[str]) -> UrlTrust:
        return cls(tuple(allowed_hosts), tuple(allow_http_hosts))


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """Case-insensitive shell-style match (`*.lab.example.com`, `10.0.0.*`)."""
    host = host.lower().rstrip(".")
    return any(fnmatchcase(host, pattern.lower().rstrip(".")) for pattern in patterns)


@lru_cache(maxsize=8192)
def address_problem(text: str) -> str | None:
    """None for an IP address (no zone) or an RFC 1123 host name; else why it is not one.

    Cached: a fleet's addresses repeat every cycle.
    """
    if not text or len(text) > MAX_HOST_NAME + 1:
        return "not an IP address or host name (empty or too long)"
    if "%" not in text:  # a zone id (`fe80::1%eth0`) may hold anything: never an address
        try:
            ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            return None
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if (
        name.isascii()
        and len(name) <= MAX_HOST_NAME
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()  # `1.2.3` or `203.0.113.999` is no name (RFC 3696)
    ):
        return None
    return "not an IP address or host name"


def valid_address(value: object) -> str | None:
    """`value` when it is an address (see `address_problem`), else None."""
    return value if isinstance(value, str) and address_problem(value) is None else None


@lru_cache(maxsize=8192)
def url_refusal(
    url: str,
    own: tuple[str, ...] | None,
    trust: UrlTrust,
    untrusted: str = URL_NOT_TRUSTED,
) -> str | None:
    """Why `url` must not get the CML password nor be opened or offered (None when it may).

    `own` holds the instance's own addresses, one of which the host must be unless
    `trust.allowed_hosts` names it; None when the URL was built from an own address (nothing
    to vouch for). `untrusted` begins the reason (the tag's words, or Cloud Manager's).
    """
    if len(url) > MAX_URL or not url.isascii() or not url.isprintable() or " " in url:
        return f"{untrusted}: not a plain http(s) URL"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # raises ValueError for a malformed port
    except ValueError:
        return f"{untrusted}: malformed URL"
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        return f"{untrusted}: not an http(s) URL with a host"
    if address_problem(host) is not None:
        return f"{untrusted}: host {visible(host, _SHOWN_HOST)} is not an IP address or host name"
    host = host.rstrip(".")
    if own is not None:
        mine = {address.lower().rstrip(".") for address in own if address}
        if host not in mine and not host_matches(host, trust.allowed_hosts):
            return (
                f"{untrusted}: host {visible(host, _SHOWN_HOST)} is not this instance's "
                "address and not in cml.allowed_hosts"
            )
    if parts.scheme == "http" and not host_matches(host, trust.allow_http_hosts):
        return (
            f"http:// refused for {visible(host, _SHOWN_HOST)} "
            "(use https, or name the host in cml.allow_http_hosts)"
        )
    return None


_ANY_HOST = UrlTrust(allow_http_hosts=("*",))


@lru_cache(maxsize=8192)
def url_shape_refusal(url: str) -> str | None:
    """Why `url` is not even a plain http(s) URL with an address for its host (None when it
    is): the part of the rule that needs no one to vouch for the host."""
    return url_refusal(url, None, _ANY_HOST)
