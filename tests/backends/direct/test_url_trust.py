"""Where the CML password may go: the instance's own addresses, allowed hosts, https."""

from __future__ import annotations

import pytest

from cmltui.backends.direct.targets import CMLTargetResolver
from cmltui.config import CmlConfig
from tests.backends.direct.test_targets_and_logs import instance


def resolve(url: str, **config: object):
    resolver = CMLTargetResolver(CmlConfig(**config), env={"CMLTUI_CML_PASSWORD": "pw-secret"})
    tagged = instance({"cmltui:cml-url": url})
    return resolver.target(tagged, resolver.base_url(tagged) or "")


@pytest.mark.parametrize(
    "url",
    [
        "https://198.51.100.7",
        "https://10.1.2.3:8443/",
        "https://EC2-198-51-100-7.compute.example",
        "https://ip-10-1-2-3.internal.",
    ],
)
def test_the_instances_own_addresses_get_the_password(url):
    target = resolve(url)
    assert target.refusal is None and target.password == "pw-secret"


@pytest.mark.parametrize(
    ("url", "allowed", "why"),
    [
        ("https://attacker.example", [], "URL tag not trusted: host attacker.example"),
        ("https://cml.lab.example.evil.com", ["*.lab.example"], "URL tag not trusted"),
        ("https://203.0.113.9", ["10.*"], "URL tag not trusted"),
        ("https://user:pw@198.51.100.7", [], "URL tag not trusted"),
        ("ftp://198.51.100.7", [], "URL tag not trusted"),
        ("https://198.51.100.7:99999", [], "URL tag not trusted: malformed"),
        ("http://198.51.100.7", [], "http:// refused for 198.51.100.7"),
        ("https://\x1b]0;x\x07.example", [], "URL tag not trusted"),
    ],
)
def test_untrusted_or_plain_urls_get_no_password(url, allowed, why):
    target = resolve(url, allowed_hosts=allowed)
    assert target.refusal is not None and target.refusal.startswith(why), target.refusal
    assert target.password == "" and target.username == ""
    assert "\x1b" not in target.refusal


def test_allowed_hosts_and_http_opt_in_are_per_host():
    assert resolve("https://cml-7.lab.example", allowed_hosts=["*.lab.example"]).refusal is None
    opted = resolve("http://198.51.100.7:8080", allow_http_hosts=["198.51.100.7"])
    assert opted.refusal is None and opted.password == "pw-secret"
    other = resolve("http://10.1.2.3", allow_http_hosts=["198.51.100.7"])
    assert other.refusal is not None and other.refusal.startswith("http:// refused")


def test_default_url_without_a_tag_is_trusted():
    resolver = CMLTargetResolver(CmlConfig(), env={"CMLTUI_CML_PASSWORD": "pw"})
    plain = instance()
    target = resolver.target(plain, resolver.base_url(plain) or "")
    assert target.refusal is None and target.password == "pw"
