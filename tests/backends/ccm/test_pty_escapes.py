"""No byte of an escape from Cloud Manager reaches the terminal: `cmltui run --ccm` on a pty.

The double serves workers with a hostile value in every DTO text field (found from the model,
`tests.hostile_fields.ccm_payload`: OSC 0 and 8, DCS, APC, PM, SOS, 8-bit C1, DEL, NUL, bidi,
a lone trailing ESC, markup...), hostile lab titles and owners, and a licence event with a
hostile error. The operator walks every row, every detail screen (to its end), the copy menu,
the cost screen and help; every byte the app wrote is then scanned.
"""

from __future__ import annotations

import base64
import re
import sys
import time
from itertools import cycle

import pytest

from cmltui.domain.sanitize import visible
from tests.backends.ccm.test_pty import SimThread
from tests.cli.test_snapshot import clean_env
from tests.hostile_corpus import CORPUS, ESCAPES_THIRD
from tests.hostile_fields import ccm_payload
from tests.pty_reading import spawn

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")

# What the app itself writes: CSI (cursor, colours, modes, its sync-output query), and
# Textual's one OSC, the mouse pointer's shape (`ESC ] 22 ; default BEL`), a fixed word.
_CSI = re.compile(r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b\]22;[a-z-]+\x07")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# The app's own clipboard write (`y`, then Enter in the copy menu: OSC 52 with base64): its
# text is what was shown, so it decodes to visible text. One the corpus injects is not the app's.
_OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")
_INJECTED_OSC52 = {m.group(1) for text in CORPUS + ESCAPES_THIRD for m in _OSC52.finditer(text)}


def _own_clipboard_write(match: re.Match[str]) -> str:
    payload = match.group(1)
    try:
        copied = base64.b64decode(payload, validate=True).decode("utf-8")
    except ValueError:
        return match.group(0)
    own = payload not in _INJECTED_OSC52 and visible(copied) == copied
    return "" if own else match.group(0)


def escape_problems(stream: str) -> list[str]:
    """Everything in a terminal stream that is not a CSI sequence, the app's own clipboard
    write or printable text: any other ESC (OSC, DCS, APC, PM, SOS, a charset switch), 8-bit
    C1, DEL, NUL, C0 but line moves, bidi controls."""
    rest = _CSI.sub("", _OSC52.sub(_own_clipboard_write, stream))
    problems = []
    for match in re.finditer("[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]", rest):
        index = match.start()
        problems.append(f"{match.group()!r} at {index}: {rest[max(0, index - 30) : index + 30]!r}")
    problems += [f"bidi {m.group()!r}" for m in _BIDI.finditer(rest)]
    return problems


@pytest.fixture
def sim():
    runner = SimThread(workers=8, seed=0, tick_s=3600)
    try:
        yield runner
    finally:
        runner.close()


def _poison(sim: SimThread) -> None:
    texts = cycle(ESCAPES_THIRD + CORPUS)
    model = sim.sim.model
    for index, worker in enumerate(model.workers.values()):
        forged = ccm_payload(texts, worker.instance_id)
        for plain in ("status", "instance_type", "aws_instance_id", "cpu_utilization"):
            forged.pop(plain)  # the worker stays as the double runs it: its rows and routes
        if index % 2 == 0:
            forged.pop("id")  # half keep their id, so their labs and idle verdict are read
        else:
            forged["id"] = f"{forged['id'][:100]}#{index}"  # hostile, within the id limit
        model.forged[worker.id] = forged
        for lab in worker.labs.values():
            lab.title, lab.owner_username = next(texts), next(texts)


def test_no_escape_from_any_cloud_manager_field_reaches_the_terminal(sim, tmp_path):
    sim.call(lambda: _poison(sim))
    env = clean_env(
        tmp_path,
        TERM="xterm-256color",
        TZ="UTC",
        CMLTUI_CCM_TOKEN=sim.sim.token,
        CMLTUI_CCM_CA_BUNDLE=str(sim.sim.ca_file),
    )
    argv = [sys.executable, "-m", "cmltui", "run", "--ccm", sim.sim.url, "--interval", "2"]
    with spawn(argv, env, size=(160, 40)) as term:
        term.expect(b"Workers 8/8", 60, start=0)
        worker = next(iter(sim.sim.model.workers.values()))
        now = sim.sim.clock.now()
        events = sim.call(
            lambda: sim.sim.model.licence_registration(worker, "s", now, error=CORPUS[9])
        )
        sim.call(lambda: sim.sim.emit(events))
        for _ in range(8):
            for key in (b"\r", b"\x1b[6~", b"\x1b[6~", b"\x1b[6~", b"\x1b[6~"):  # Enter, PgDn
                term.write(key)
                term.read_until(b"\x1b[", 1.0)
            term.write(b"\x1b")  # back to the table
            term.read_until(b"Workers", 2.0)
            term.write(b"y")
            term.read_until(b"Copy", 5.0)
            term.write(b"\x1b")
            term.read_until(b"Workers", 5.0)
            term.write(b"\x1b[B")  # down
            term.read_until(b"\x1b[", 1.0)
        for key, shown in ((b"$", b"Burn now"), (b"?", b"cmltui help")):
            # Under load a key of the walk above can land before the screen it was meant for
            # had opened, leaving a detail screen up: Esc first, until the key opens its screen.
            seen = b""
            for _attempt in range(4):
                term.write(b"\x1b")
                term.read(0.5)
                term.write(key)
                seen = term.read_until(shown, 10, plain=True)
                if shown in seen:
                    break
            assert shown in seen, f"{shown!r} not shown; last output: {term.seen[-400:]!r}"
            term.write(b"\x1b")
            term.read_until(b"Workers", 2.0)
        time.sleep(1.0)
        term.read(0.5)
        # Under load a key can land before the screen it was meant for has opened, leaving a
        # dialog or a screen up at the end: Esc closes it, then `q` leaves from the table.
        status = None
        for _ in range(5):
            term.write(b"\x1b")
            term.read(0.5)
            term.write(b"q")
            status = term.wait(8)
            if status is not None:
                break
        assert status == 0
    stream = term.seen.decode("utf-8")  # strict: a lone surrogate could not have been written
    # The hostile values were on screen (as text), or the scan would prove nothing.
    assert "␛]8;;https://evil.example/" in stream or "␛]0;owned title" in stream
    problems = escape_problems(stream)
    assert problems == [], "\n".join(problems[:40])
