"""Outside text is data: `visible()` and `snapshot --format table` against the hostile corpus."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from rich.cells import cell_len

from cmltui.api.events import FleetSnapshot
from cmltui.cli.table import render_table
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.sanitize import error_text, visible
from cmltui.domain.secrets import scrub_text, without_secret_keys
from cmltui.domain.worker import CMLWorker
from cmltui.mapper import MapContext, map_worker_to_dto
from tests.hostile_corpus import CORPUS, control_problems

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_visible_leaves_nothing_that_acts_on_a_terminal(text):
    shown = visible(text)
    assert control_problems(shown) == []
    assert len(shown) == len(text)  # one visible character each: styled spans stay valid
    assert "\n" not in shown and "\x1b" not in shown
    shown.encode("utf-8")  # lone surrogates would make the terminal write fail


def test_visible_shows_escape_and_keeps_plain_text():
    assert visible("a\x1b]0;x\x07b") == "a␛]0;x␇b"
    assert visible("cml-busy-01 中文 é") == "cml-busy-01 中文 é"
    assert visible("x" * 50, 10) == "x" * 9 + "…"


def test_error_text_is_short_visible_and_secret_free():
    raw = "Bearer eyJa.eyJb.c2ln <html>" + "\x1b[2J" + "body " * 5000
    shown = error_text(raw)
    assert len(shown) <= 200 and "\x1b" not in shown and "eyJa.eyJb" not in shown


def test_one_scrubber_for_text_and_objects():
    assert "hunter2" not in scrub_text('{"password": "hunter2"}')
    assert without_secret_keys({"a": {"id_token": "x", "ok": 1}, "Password": "y"}) == {
        "a": {"ok": 1}
    }


def _worker(index: int, name: str) -> CMLWorker:
    worker = CMLWorker(
        instance_id=f"i-{index:017x}",
        region="us-east-1",
        name=name,
        instance_type="m5zn.metal",
        status=WorkerStatus.RUNNING,
        tags={"Name": name},
    )
    worker.errors["cml"] = CORPUS[(index + 3) % len(CORPUS)]
    return worker


def test_format_table_rows_are_aligned_and_inert():
    workers = [_worker(i, text) for i, text in enumerate(CORPUS)]
    ctx = MapContext(now=NOW)
    snapshot = FleetSnapshot(
        collected_at=NOW,
        next_refresh_at=None,
        workers=tuple(map_worker_to_dto(w, ctx) for w in workers),
        errors=tuple(CORPUS[:3]),
    )
    out = render_table(snapshot)
    assert control_problems(out) == []
    lines = out.splitlines()
    # header + one row and one error line per worker + three totals lines (idle counts,
    # collection time, burn) + region errors: no forged rows
    assert len(lines) == 1 + 2 * len(workers) + 3 + 3
    header_width = cell_len(lines[0])
    rows = [line for line in lines[1 : 1 + 2 * len(workers)] if not line.startswith("  ! ")]
    assert len(rows) == len(workers)
    for row in rows:
        assert cell_len(row) == header_width, row
        # the STATUS column starts at cell 19 in every row, whatever the name held
        assert cell_len(row[: row.index(" running ")]) == 18, row
    for line in lines:
        assert cell_len(line) <= 4 * 80
        assert not any(unicodedata.category(c) == "Cc" for c in line)


def test_log_lines_are_visible_and_secret_free(tmp_path, monkeypatch, capsys):
    import logging

    from cmltui.logging_setup import configure_logging

    (tmp_path / "state").write_text("not a directory")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    setup = configure_logging("INFO", stderr_fallback=True)
    try:
        assert setup.path is None and "logging to stderr" in (setup.problem or "")
        logging.getLogger("cmltui.test").warning(
            "lab %s password=hunter2", "\x1b]0;title\x07\x1b[2J"
        )
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "␛]0;title␇␛[2J" in err and "\x1b" not in err and "hunter2" not in err


def test_even_width_drops_what_terminals_measure_otherwise_and_keeps_text():
    from cmltui.domain.sanitize import MAX_COMBINING, even_width, has_visible
    from cmltui.domain.tags import worker_name

    assert even_width("cml-busy-01") == "cml-busy-01"
    assert even_width("a" + "\u0301" * 200) == "a" + "\u0301" * MAX_COMBINING
    assert even_width("\u2764\ufe0f \U0001f44d\U0001f3fd") == "\u2764 \U0001f44d"
    assert even_width("fill\u3164\u1160\uffa0\u115fer") == "filler"
    assert even_width("wide中文 é") == "wide中文 é"
    assert not has_visible("\u3164\u3164") and not has_visible("  \u200b\u0301 ")
    assert has_visible("\u4e2d") and has_visible("x")
    assert worker_name("\u3164\u3164\u3164", "i-0abc") == "i-0abc"
    assert worker_name("", "i-0abc") == "i-0abc" and worker_name("cml-01", "i-0") == "cml-01"
