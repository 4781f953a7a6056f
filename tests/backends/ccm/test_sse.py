"""The SSE decoder, against the framing rules of the WHATWG event-stream format."""

from __future__ import annotations

from cmltui.backends.ccm.sse import MAX_DATA_BYTES, SseDecoder, SseFrame


def _frames(text: str) -> list[SseFrame]:
    decoder = SseDecoder()
    out = [decoder.feed(line) for line in text.splitlines(keepends=True)]
    return [f for f in out if f is not None]


def test_event_and_data_make_a_frame_at_the_blank_line():
    assert _frames('event: worker.snapshot\ndata: {"a": 1}\n\n') == [
        SseFrame("worker.snapshot", '{"a": 1}')
    ]


def test_multi_line_data_comments_crlf_and_default_event():
    frames = _frames(": keep-alive\r\ndata: a\r\ndata:b\r\nid: 7\r\n\r\ndata: c\n\n")
    assert frames == [SseFrame("message", "a\nb", "7"), SseFrame("message", "c", "7")]


def test_a_frame_without_data_is_not_dispatched_and_state_resets():
    assert _frames("event: heartbeat\n\ndata: x\n\n") == [SseFrame("message", "x")]


def test_oversized_data_is_dropped_whole():
    big = "x" * (MAX_DATA_BYTES // 2)
    frames = _frames(f"data: {big}\ndata: {big}\ndata: {big}\n\ndata: ok\n\n")
    assert frames == [SseFrame("message", "ok")]


def test_bytes_with_bad_utf8_do_not_raise():
    decoder = SseDecoder()
    assert decoder.feed(b"data: \xff\xfe\n") is None
    frame = decoder.feed(b"\n")
    assert frame is not None and "\ufffd" in frame.data
