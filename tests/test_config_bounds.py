"""Config bounds, encodings, CA bundles, option names and regions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmltui.config import ConfigError, load_config
from tests.test_config import _config, run_cmltui


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[idle]\ntimeout_minutes = 1e308\n", "idle.timeout_minutes"),
        ("[idle]\ntimeout_minutes = inf\n", "idle.timeout_minutes"),
        ("[idle]\ntimeout_minutes = nan\n", "idle.timeout_minutes"),
        ("[idle]\ntimeout_minutes = 10081\n", "idle.timeout_minutes"),  # over 7 days
        ("[idle]\nsnooze_minutes = 1e308\n", "idle.snooze_minutes"),
        ("[idle]\nsettle_seconds = 1e308\n", "idle.settle_seconds"),
        ("[idle]\nboot_grace_minutes = -1\n", "idle.boot_grace_minutes"),
        ("[intervals]\nactivity = 1e12\n", "intervals.activity"),
        ("[intervals]\ncloudwatch = inf\n", "intervals.cloudwatch"),
        ("[intervals]\nlicensing = 1e9\n", "intervals.licensing"),
        ("[intervals]\nusers = 5\n", "intervals.users"),
        ("[cml]\nrequest_timeout = 0\n", "cml.request_timeout"),
        ("[cml]\nrequest_timeout = 1e9\n", "cml.request_timeout"),
        ("[cml]\nconcurrency = 0\n", "cml.concurrency"),
        ("[cml]\nconcurrency = 100000\n", "cml.concurrency"),
        ("[cml]\nworker_deadline = 0\n", "cml.worker_deadline"),
        ("[cml]\nmax_response_bytes = 10\n", "cml.max_response_bytes"),
        ("[cml]\nmax_response_bytes = 1e12\n", "cml.max_response_bytes"),
        ("[cml]\nmax_json_depth = 100000\n", "cml.max_json_depth"),
        ("[cml]\npassword_command_timeout = 1e9\n", "cml.password_command_timeout"),
        ("[aws]\nmax_attempts = 1000\n", "aws.max_attempts"),
        ("[ui]\nhistory_points = 1e9\n", "ui.history_points"),
        ('[prices]\n"m5.metal" = -1\n', "prices.m5.metal"),
        ('[prices]\n"m5.metal" = inf\n', "prices.m5.metal"),
    ],
)
def test_every_number_has_a_range(tmp_path, toml, key):
    path = _file(tmp_path, toml)
    with pytest.raises(ConfigError) as info:
        load_config(str(path), env={})
    message = str(info.value)
    assert message.startswith(f"{path}: {key}:"), message
    assert "\n" not in message


def test_a_week_of_idle_minutes_is_accepted(tmp_path):
    cfg = load_config(str(_file(tmp_path, "[idle]\ntimeout_minutes = 10080\n")), env={})
    assert cfg.idle.timeout_minutes == 10080


def test_not_utf8_is_one_line_and_a_bom_is_accepted(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b'[aws]\nprofile = "caf\xe9"\n')  # Latin-1
    result = run_cmltui("--config", str(path), "snapshot", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"cmltui: {path}: not UTF-8 text (byte 0xe9 at offset 20)"), (
        result.stderr
    )
    path.write_bytes(b'\xef\xbb\xbf[aws]\nprofile = "lab"\n')
    assert load_config(str(path), env={}).aws.profile == "lab"


def test_missing_or_invalid_ca_bundle_names_source_and_key(tmp_path):
    path = _file(tmp_path, f'[cml]\nca_bundle = "{tmp_path / "nope.pem"}"\n')
    with pytest.raises(
        ConfigError, match=rf"^{path}: cml\.ca_bundle: CA bundle .*nope\.pem not found"
    ):
        load_config(str(path), env={})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    env = {"CMLTUI_CML_CA_BUNDLE": str(junk)}
    with pytest.raises(ConfigError) as info:
        load_config(str(_file(tmp_path, "")), env=env)
    assert str(info.value).startswith(
        "environment variable CMLTUI_CML_CA_BUNDLE: cml.ca_bundle: CA bundle"
    )
    assert "not usable" in str(info.value)
    result = run_cmltui(
        "snapshot", env_extra={"CMLTUI_CML_CA_BUNDLE": str(junk)}, tmp_path=tmp_path
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_option_errors_name_the_option(tmp_path):
    with pytest.raises(ConfigError, match=r"^option --interval: intervals\.collector:"):
        _config(["--interval", "0.001"], {"CMLTUI_CONFIG": str(_file(tmp_path, ""))}, tmp_path)
    result = run_cmltui("--interval", "1e308", "snapshot", tmp_path=tmp_path)
    assert result.returncode == 2 and "option --interval" in result.stderr


def test_standard_region_variables_give_only_the_default(tmp_path):
    listed = _file(tmp_path, '[aws]\nregions = ["eu-west-1", "eu-central-1"]\n')
    env = {"AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "ap-south-1"}
    # A configured list stays: the standard variables do not replace it.
    assert load_config(str(listed), env=env).aws.regions == ["eu-west-1", "eu-central-1"]
    # With no list configured, they give the default region (AWS_REGION first, as the SDKs do).
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load_config(str(empty), env=env).aws.regions == ["ap-south-1"]
    assert load_config(str(empty), env={"AWS_DEFAULT_REGION": "us-west-2"}).aws.regions == [
        "us-west-2"
    ]
    # CMLTUI_REGIONS and --region override the list.
    env["CMLTUI_REGIONS"] = "sa-east-1,us-east-2"
    assert load_config(str(listed), env=env).aws.regions == ["sa-east-1", "us-east-2"]
    env["CMLTUI_CONFIG"] = str(listed)
    assert _config(["--region", "ca-central-1"], env, tmp_path).aws.regions == ["ca-central-1"]


def test_a_bad_aws_ca_bundle_is_one_line(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=r"^environment variable AWS_CA_BUNDLE: CA bundle"):
        load_config(str(empty), env={"AWS_CA_BUNDLE": str(tmp_path / "nope.pem")})


@pytest.mark.parametrize("key", ["[/]", "[@click=app.quit]", "q\x1b", "", "a" * 40])
def test_key_names_are_key_names(tmp_path, key):
    path = tmp_path / "k.toml"
    path.write_text(f"[keys]\nquit = {json.dumps(key)}\n")
    with pytest.raises(ConfigError, match=r"keys\.quit: not a key name"):
        load_config(str(path), env={})
    assert load_config(str(_file(tmp_path, '[keys]\nquit = "ctrl+q,q"\n')), env={})
