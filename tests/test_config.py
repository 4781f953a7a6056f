"""Configuration errors and precedence, through the `cmltui` command itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmltui.cli.main import build_parser, config_from_args
from cmltui.config import ConfigError, load_config


def run_cmltui(*args: str, env_extra: dict[str, str] | None = None, tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMLTUI_", "AWS_"))}
    if tmp_path is not None:
        env["HOME"] = str(tmp_path)
        env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
        env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "cmltui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[aws\nregions = [", "invalid TOML"),
        ("[intervals]\ncolector = 5\n", "intervals.colector: unknown key"),
        ('[intervals]\ncollector = "fast"\n', "intervals.collector:"),
        ('[idle]\nauto_pause = "maybe"\n', "idle.auto_pause:"),
        ("bogus_top = 1\n", "bogus_top: unknown key"),
    ],
)
def test_bad_config_gives_one_line_naming_file_and_key(tmp_path, content, needle):
    path = tmp_path / "c.toml"
    path.write_text(content)
    result = run_cmltui("--config", str(path), "snapshot", tmp_path=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and needle in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_config_path_from_env_and_missing_file(tmp_path):
    result = run_cmltui(
        "snapshot", env_extra={"CMLTUI_CONFIG": str(tmp_path / "nope.toml")}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "nope.toml: config file not found" in result.stderr


def test_bad_env_value_names_the_variable(tmp_path):
    result = run_cmltui("snapshot", env_extra={"CMLTUI_INTERVAL": "1"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "CMLTUI_INTERVAL" in result.stderr and "intervals.collector" in result.stderr


def _config(argv, env, tmp_path):
    args = build_parser().parse_args(argv)
    return config_from_args(args, env=env)


def test_flags_beat_env_beat_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[aws]\nprofile = "from-file"\nregions = ["eu-west-1"]\n[intervals]\ncollector = 30\n'
    )
    env = {"CMLTUI_CONFIG": str(path)}
    cfg = _config([], env, tmp_path)
    assert (cfg.aws.profile, cfg.aws.regions, cfg.intervals.collector) == (
        "from-file",
        ["eu-west-1"],
        30,
    )
    env |= {
        "AWS_PROFILE": "from-env",
        "CMLTUI_REGIONS": "us-west-2, ap-south-1",
        "CMLTUI_INTERVAL": "20",
    }
    cfg = _config([], env, tmp_path)
    assert (cfg.aws.profile, cfg.aws.regions, cfg.intervals.collector) == (
        "from-env",
        ["us-west-2", "ap-south-1"],
        20,
    )
    cfg = _config(
        [
            "--profile",
            "from-flag",
            "snapshot",
            "--region",
            "sa-east-1",
            "--region",
            "us-east-2",
            "--interval",
            "15",
        ],
        env,
        tmp_path,
    )
    assert (cfg.aws.profile, cfg.aws.regions, cfg.intervals.collector) == (
        "from-flag",
        ["sa-east-1", "us-east-2"],
        15,
    )


def test_cmltui_specific_env_beats_standard_aws_env(tmp_path):
    cfg = load_config(str(_empty(tmp_path)), env={"AWS_PROFILE": "std", "CMLTUI_PROFILE": "ours"})
    assert cfg.aws.profile == "ours"


def _empty(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path


def test_defaults_match_spec(tmp_path):
    cfg = load_config(str(_empty(tmp_path)), env={})
    assert cfg.intervals.collector == 10
    assert cfg.intervals.activity == 300
    assert cfg.intervals.cloudwatch == 300
    assert cfg.idle.boot_grace_minutes == 10
    assert cfg.idle.timeout_minutes == 60 and cfg.idle.snooze_minutes == 60
    assert cfg.idle.auto_pause is False
    assert cfg.cml.request_timeout == 5
    assert cfg.aws.filters[0].Name == "tag-key" and cfg.aws.filters[0].Values == ["cml-worker"]
    assert cfg.ui.thresholds.careful == 50 and cfg.ui.thresholds.critical == 90
    assert cfg.read_only is False


def test_global_options_after_subcommand(tmp_path):
    args = build_parser().parse_args(["demo", "--read-only", "--region", "a", "--workers", "3"])
    assert args.read_only is True and args.region == ["a"] and args.workers == 3
    args = build_parser().parse_args(["--read-only", "demo"])
    assert args.read_only is True


def test_password_never_from_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[cml]\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match=r"cml\.password: unknown key"):
        load_config(str(path), env={})


def test_version_flag():
    result = run_cmltui("--version")
    assert result.returncode == 0 and result.stdout.startswith("cmltui ")


@pytest.mark.parametrize(
    ("accounts", "needle"),
    [
        ('name = "a b"', "aws.accounts.0.name:"),
        ('name = "x"\nexternal_id = "abc"', "external_id is only used with role_arn"),
        ('name = "x"\nrole_arn = "arn:aws:iam::12:role/r"', "aws.accounts.0.role_arn:"),
        ('name = "x"\nregions = []', "aws.accounts.0.regions:"),
        ('name = "x"\nprofil = "p"', "aws.accounts.0.profil: unknown key"),
    ],
)
def test_bad_account_gives_one_line_naming_the_key(accounts, needle):
    with pytest.raises(ConfigError) as raised:
        load_config_text(f"[[aws.accounts]]\n{accounts}\n")
    assert needle in str(raised.value) and "\n" not in str(raised.value)


def test_an_account_name_used_twice_is_refused():
    with pytest.raises(ConfigError, match="account name 'x' is used twice"):
        load_config_text('[[aws.accounts]]\nname = "x"\n[[aws.accounts]]\nname = "x"\n')


def test_accounts_use_the_aws_profile_and_regions_unless_they_have_their_own():
    config = load_config_text(
        '[aws]\nprofile = "base"\nregions = ["eu-west-1", "us-east-1"]\n'
        '[[aws.accounts]]\nname = "training"\n'
        '[[aws.accounts]]\nname = "prod"\nprofile = "prod-admin"\nregions = ["us-west-2"]\n'
        '[[aws.accounts]]\nname = "dev"\nrole_arn = "arn:aws:iam::123456789012:role/ops"\n'
        'external_id = "ext-1"\n'
    )
    assert [
        (s.name, s.profile, s.regions, s.role_arn, s.external_id)
        for s in config.aws.account_sources()
    ] == [
        ("training", "base", ("eu-west-1", "us-east-1"), None, None),
        ("prod", "prod-admin", ("us-west-2",), None, None),
        ("dev", "base", ("eu-west-1", "us-east-1"), "arn:aws:iam::123456789012:role/ops", "ext-1"),
    ]
    assert config.aws.all_regions() == ("eu-west-1", "us-east-1", "us-west-2")
    plain = load_config_text('[aws]\nprofile = "solo"\n')
    assert [(s.name, s.profile) for s in plain.aws.account_sources()] == [(None, "solo")]


def load_config_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_text(text)
        return load_config(str(path), env={})
