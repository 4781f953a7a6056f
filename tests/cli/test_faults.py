"""Start and stop under faults: unusable state directory, a hung AWS endpoint,
signals and their exit codes, every failing region named, `q` within 2 s in a real terminal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from cmltui.audit import AuditLog, AuditUnavailable
from tests.cli.test_snapshot import clean_env, cmltui
from tests.pty_reading import spawn

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses a Linux pty and signals")


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """An HTTP endpoint on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def aws_env(tmp_path, endpoint: str, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp_path,
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        **extra,
    )


def test_unusable_state_directory_is_one_line_and_snapshot_still_runs(tmp_path):
    state = tmp_path / "state"
    state.write_text("a file where the state directory should be")
    result = cmltui(
        "snapshot", "--demo", "--workers", "3", "--format", "json", env=clean_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and "cannot write log file" in lines[0] and "logging to stderr" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("shape", ["parent-is-a-file", "log-is-a-directory", "read-only-dir"])
def test_audit_log_says_when_it_cannot_write(tmp_path, shape):
    if shape == "parent-is-a-file":
        (tmp_path / "state").write_text("x")
        path = tmp_path / "state" / "audit.jsonl"
    elif shape == "log-is-a-directory":
        path = tmp_path / "audit.jsonl"
        path.mkdir()
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only directories")
        (tmp_path / "ro").mkdir(mode=0o500)
        path = tmp_path / "ro" / "audit.jsonl"
    audit = AuditLog(path)
    assert not audit.usable
    assert str(path) in (audit.problem or "") and "actions are refused" in (audit.problem or "")
    from datetime import UTC, datetime

    args = dict(
        at=datetime.now(UTC),
        operator="tester",
        action="pause",
        worker_id="i-1",
        worker_name="w",
        region="us-east-1",
        result="intent",
    )
    with pytest.raises(AuditUnavailable):
        audit.record(**args, required=True)
    audit.record(**args)  # a result line that cannot be written is logged, not raised


def test_audit_log_usable_writes_and_syncs(tmp_path):
    from datetime import UTC, datetime

    audit = AuditLog(tmp_path / "deep" / "audit.jsonl")
    assert audit.usable and audit.problem is None
    audit.record(
        at=datetime.now(UTC),
        operator="tester",
        action="pause",
        worker_id="i-1",
        worker_name="w",
        region="r",
        result="intent",
        error="password=hunter2 \x1b]0;x\x07",
        required=True,
    )
    text = (tmp_path / "deep" / "audit.jsonl").read_text()
    assert '"result": "intent"' in text and "hunter2" not in text and "\\u001b" not in text


def test_every_failing_region_is_named(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = aws_env(tmp_path, closed, CMLTUI_REGIONS="eu-west-1,ap-south-1")
    result = cmltui("snapshot", env=env, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "eu-west-1" in lines[0] and "ap-south-1" in lines[0]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_end_a_hung_snapshot_with_the_conventional_code(
    tmp_path, hung_endpoint, signum, code
):
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmltui", "snapshot"],
        env=aws_env(tmp_path, hung_endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.5)  # imports done, the EC2 call is hanging
        assert proc.poll() is None
        began = time.monotonic()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert took < 3, f"{took:.1f}s to exit after the signal"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("how", "code"),
    [("q", 0), (signal.SIGTERM, 143), (signal.SIGINT, 130)],
    ids=["q", "term", "int"],
)
def test_dashboard_exits_within_two_seconds_while_aws_hangs(tmp_path, hung_endpoint, how, code):
    env = aws_env(tmp_path, hung_endpoint, TERM="xterm-256color", COLUMNS="120", LINES="40")
    with spawn([sys.executable, "-m", "cmltui", "run"], env) as app:
        screen = app.read_until(b"Workers", timeout=60)
        assert b"Workers" in screen, screen[-500:]
        time.sleep(1.5)  # the first collection is now stuck on the hung endpoint
        assert app.proc.poll() is None
        began = time.monotonic()
        if how == "q":
            app.write(b"q")
        else:
            app.proc.send_signal(how)
        app.wait(10)  # keeps the terminal drained
        took = time.monotonic() - began
        assert app.proc.poll() is not None, "still running 10 s after q"
        assert took < 2.0, f"{took:.2f}s to exit after {how}"
        assert app.proc.returncode == code


def test_dashboard_reports_an_unusable_state_directory_in_one_line(tmp_path):
    (tmp_path / "state").write_text("a file where the state directory should be")
    env = clean_env(tmp_path, TERM="xterm-256color", COLUMNS="120", LINES="40")
    with spawn([sys.executable, "-m", "cmltui", "demo", "--workers", "2"], env) as app:
        app.read_until(b"actions are refused", timeout=60, start=0)
        screen = app.read_until(b"Workers", timeout=60, start=0)
        before_ui = screen.split(b"\x1b[?1049h", 1)[0].decode(errors="replace")
        lines = [line for line in before_ui.splitlines() if line.strip()]
        assert len(lines) == 1, before_ui
        assert "cannot write log file" in lines[0] and "actions are refused" in lines[0]
        app.write(b"q")
        assert app.wait(15) == 0
