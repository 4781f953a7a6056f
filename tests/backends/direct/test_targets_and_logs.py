"""CML targets (URL, per-worker credentials) and secret-free logs."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import pytest

from cmltui.backends.direct.targets import CMLTargetResolver
from cmltui.config import CmlConfig, ConfigError, CredentialOverride
from cmltui.logging_setup import configure_logging, log_file_path
from cmltui.sources.aws_ec2 import Ec2Instance


def instance(tags: dict[str, str] | None = None) -> Ec2Instance:
    return Ec2Instance(
        instance_id="i-0abc",
        region="us-east-1",
        instance_type="c5.metal",
        state="running",
        state_transition_reason=None,
        state_transition_time=None,
        launch_time=datetime(2026, 1, 1, tzinfo=UTC),
        root_volume_attach_time=None,
        image_id="ami-1",
        public_ip="198.51.100.7",
        private_ip="10.1.2.3",
        public_dns="ec2-198-51-100-7.compute.example",
        private_dns="ip-10-1-2-3.internal",
        tags=tags or {},
    )


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("public", "https://198.51.100.7"),
        ("private", "https://10.1.2.3"),
        ("public_dns", "https://ec2-198-51-100-7.compute.example"),
        ("private_dns", "https://ip-10-1-2-3.internal"),
    ],
)
def test_base_url_follows_the_address_setting(address, url):
    resolver = CMLTargetResolver(CmlConfig(address=address), env={})
    assert resolver.base_url(instance()) == url


def test_cml_url_tag_wins():
    resolver = CMLTargetResolver(CmlConfig(), env={})
    tagged = instance({"cmltui:cml-url": "https://cml.lab.example:8443/"})
    assert resolver.base_url(tagged) == "https://cml.lab.example:8443"


def test_overrides_by_tag_and_password_sources():
    config = CmlConfig(
        username="admin",
        password_env="MAIN_PW",
        overrides=[
            CredentialOverride(
                tag="team", value="blue", username="blue-admin", password_env="BLUE_PW"
            ),
            CredentialOverride(
                tag="legacy",
                username="old",
                password_command=f"{sys.executable} -c \"print('from-cmd')\"",
            ),
        ],
    )
    resolver = CMLTargetResolver(config, env={"MAIN_PW": "main-secret", "BLUE_PW": "blue-secret"})
    default = resolver.target(instance({"team": "red"}), "https://x")
    assert (default.username, default.password) == ("admin", "main-secret")
    blue = resolver.target(instance({"team": "blue"}), "https://x")
    assert (blue.username, blue.password) == ("blue-admin", "blue-secret")
    legacy = resolver.target(instance({"legacy": "anything"}), "https://x")
    assert (legacy.username, legacy.password) == ("old", "from-cmd")
    assert "secret" not in repr(blue)


def test_missing_override_password_is_a_clear_error():
    config = CmlConfig(overrides=[CredentialOverride(tag="team", password_env="NOPE")])
    with pytest.raises(ConfigError, match="NOPE"):
        CMLTargetResolver(config, env={})


def test_failing_password_command_names_the_key_not_the_output():
    config = CmlConfig(password_command=f'{sys.executable} -c "import sys; sys.exit(3)"')
    with pytest.raises(ConfigError, match=r"cml\.password_command failed"):
        CMLTargetResolver(config, env={})


def test_log_file_never_holds_passwords_or_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    path = configure_logging("DEBUG").path
    assert path is not None
    assert path == log_file_path() and str(tmp_path) in str(path)
    log = logging.getLogger("cmltui.test")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"
    log.info("login password=hunter2 ok")
    log.info("header Authorization: Bearer %s", jwt)
    log.info("body {'token': 'abc123secret'}")
    log.info("raw %s", jwt)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "hunter2" not in text and "abc123secret" not in text and jwt not in text
    assert text.count("***") >= 4
    logging.getLogger().handlers.clear()
