"""`cmltui simulate` prints what a client needs and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import tomllib

from tests.cli.test_snapshot import clean_env


def test_simulate_prints_endpoints_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmltui", "simulate", "--workers", "3", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("  ca_bundle"):
                break
        text = "".join(lines)
        assert "AWS endpoint:" in text and "CML password:" in text and "CA file:" in text
        toml_part = "\n".join(
            ln[2:] for ln in text.split("cmltui config (TOML):", 1)[1].splitlines() if ln.strip()
        )
        config = tomllib.loads(toml_part)
        endpoint = config["aws"]["endpoint_url"]
        assert endpoint.startswith("http://127.0.0.1:")
        port = int(endpoint.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in proc.stderr.read()
        refused = False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            refused = True
        assert refused, "the AWS endpoint still listens after the simulator stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
