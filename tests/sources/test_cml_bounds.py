"""Bounded work per worker: body size, JSON depth, slow answers, one bad endpoint.

Every server here is a small aiohttp app on 127.0.0.1 made for the test, over HTTPS signed by
the test CA, so the client's real transport, TLS and parsing run.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from cmltui.jsonbounds import json_depth
from cmltui.sources.cml_client import (
    CMLClient,
    CMLCycleResult,
    CMLError,
    CMLTarget,
)
from tests.sources.conftest import API, LAB_IDS, PASSWORD, USERNAME, Certs, FakeCML, _bodies

Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse | None]]


class Loopback:
    """A CML stand-in whose answers a test overrides per path; the rest are plausible bodies."""

    def __init__(self, override: Handler | None = None) -> None:
        self.override = override
        self.base_url = ""
        self.passwords_received: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail == "authenticate":
            body = await request.json()
            self.passwords_received.append(str(body.get("password")))
        if self.override is not None:
            answer = await self.override(request, tail)
            if answer is not None:
                return answer
        if tail == "authenticate":
            return web.json_response("hdr.payload.sig")
        if tail == "labs":
            return web.json_response(LAB_IDS)
        body = _bodies(False).get(tail)
        return web.json_response(body) if body is not None else web.Response(status=404)


@pytest.fixture
async def serve(certs: Certs) -> AsyncIterator[Callable[[Loopback], Awaitable[str]]]:
    runners: list[web.AppRunner] = []
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs.cert_file, certs.key_file)

    async def start(server: Loopback) -> str:
        app = web.Application()
        app.router.add_route("*", API + "/{tail:.*}", server.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx).start()
        runners.append(runner)
        server.base_url = f"https://127.0.0.1:{runner.addresses[0][1]}"
        return server.base_url

    yield start
    for runner in runners:
        await runner.cleanup()


def client(certs: Certs, **kwargs: object) -> CMLClient:
    return CMLClient(ca_bundle=certs.ca_file, **kwargs)  # type: ignore[arg-type]


def target(url: str, worker_id: str = "i-0abc") -> CMLTarget:
    return CMLTarget(worker_id, url, USERNAME, PASSWORD)


async def cycle(cml: CMLClient, url: str, **kwargs: object) -> CMLCycleResult:
    return await cml.fetch_cycle(
        target(url),
        want_labs=True,
        want_licensing=True,
        want_users=False,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_endless_body_is_cut_at_the_cap(certs, serve):
    """A fast endless /system_information (no login needed) ends at the size cap."""
    sent = 0

    async def endless(request: web.Request, tail: str) -> web.StreamResponse | None:
        nonlocal sent
        if tail != "system_information":
            return None
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"version": "')
        chunk = b"A" * 65536
        try:
            while sent < 200 * 1024 * 1024:  # far past any cap; the client must stop first
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response

    url = await serve(Loopback(endless))
    cml = client(certs, max_response_bytes=256 * 1024)
    try:
        result = await cycle(cml, url)
    finally:
        await cml.close()
    assert "response too large" in result.errors["system_information"]
    assert not result.reachable
    assert sent < 50 * 1024 * 1024, "the client kept reading after the cap"


async def test_declared_length_over_the_cap_is_refused_unread(certs, serve):
    async def huge(request: web.Request, tail: str) -> web.StreamResponse | None:
        if tail == "system_stats":
            return web.Response(
                body=b"[" + b"0," * 400_000 + b"0]", content_type="application/json"
            )
        return None

    url = await serve(Loopback(huge))
    cml = client(certs, max_response_bytes=128 * 1024)
    try:
        result = await cycle(cml, url)
    finally:
        await cml.close()
    assert "response too large" in result.errors["system_stats"]
    # Only that part is marked: health and the rest arrived.
    assert result.system_health is not None and result.system_health.valid
    assert result.licensing is not None


@pytest.mark.parametrize("depth", [40, 100_000])
async def test_deep_licensing_marks_only_licensing(certs, serve, depth):
    """A deeply nested /licensing keeps the worker's valid health and stats."""

    async def deep(request: web.Request, tail: str) -> web.StreamResponse | None:
        if tail == "licensing":
            return web.Response(
                body=b'{"registration": ' + b"[" * depth + b"]" * depth + b"}",
                content_type="application/json",
            )
        return None

    url = await serve(Loopback(deep))
    cml = client(certs)
    try:
        result = await cycle(cml, url)
    finally:
        await cml.close()
    assert set(result.errors) == {"licensing"}
    assert "nested too deeply" in result.errors["licensing"]
    assert result.system_health is not None and result.system_health.valid
    assert result.system_info is not None and result.labs is not None


async def test_no_cookie_goes_back_and_bodies_are_asked_uncompressed(certs, serve):
    """Only the bearer token authenticates; a worker's cookie is never returned to anyone."""
    seen: list[tuple[str, str | None, str | None]] = []

    async def cookie_setter(request: web.Request, tail: str) -> web.StreamResponse | None:
        seen.append((tail, request.headers.get("Cookie"), request.headers.get("Accept-Encoding")))
        if tail == "system_information":
            answer = web.json_response(_bodies(False)["system_information"])
            answer.set_cookie("session", "from-the-worker")
            return answer
        return None

    # By name: aiohttp's default jar keeps no cookies for a bare IP address.
    url = (await serve(Loopback(cookie_setter))).replace("127.0.0.1", "localhost")
    cml = client(certs)
    try:
        result = await cycle(cml, url)
        await cycle(cml, url)
    finally:
        await cml.close()
    assert not result.errors
    assert len(seen) > 4
    assert {cookie for _, cookie, _ in seen} == {None}
    assert {encoding for _, _, encoding in seen} == {"identity"}


def test_decode_bounds_depth_not_the_number_of_brackets(certs):
    cml = client(certs, max_json_depth=32)
    wide = b"[" + b",".join(b'{"a": [1]}' for _ in range(200)) + b"]"  # 401 brackets, 3 deep
    assert len(cml._decode(wide)) == 200
    at_cap = b"[" * 32 + b"]" * 32
    assert cml._decode(at_cap) == json.loads(at_cap)
    with pytest.raises(CMLError, match="nested too deeply"):
        cml._decode(b"[" * 33 + b"]" * 33)
    brackets_in_text = b'{"a": "' + b"[" * 40 + b'"}'  # counted, but only 1 deep
    assert cml._decode(brackets_in_text) == {"a": "[" * 40}


def test_json_depth_counts_levels():
    assert json_depth(1, 10) == 0
    assert json_depth({"a": [1, {"b": []}]}, 10) == 4
    assert json_depth(json.loads("[" * 50 + "]" * 50), 10) == 11  # stops counting past the cap


async def test_slow_but_answering_worker_is_healthy(certs, serve):
    """Every answer takes 1.2 s with a 1.5 s timeout: the calls queue for the worker's two
    pooled connections, and that wait must not count against the request timeout."""

    async def slow(request: web.Request, tail: str) -> web.StreamResponse | None:
        await asyncio.sleep(1.2)
        return None

    url = await serve(Loopback(slow))
    cml = client(certs, request_timeout=1.5)
    try:
        result = await cycle(cml, url)
    finally:
        await cml.close()
    assert result.errors == {}
    assert result.complete
    assert result.system_health is not None and result.labs is not None


async def test_deadline_keeps_what_arrived_and_names_what_did_not(certs, serve):
    """Lab details drip slowly: at the deadline the fast parts are kept, the late one named."""

    async def drip(request: web.Request, tail: str) -> web.StreamResponse | None:
        if not tail.startswith("labs/"):
            return None
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for char in json.dumps(_bodies(False)[tail]):
                await response.write(char.encode())
                await asyncio.sleep(0.2)  # each read well under the request timeout
        except ConnectionError:  # the client left at its deadline
            pass
        return response

    url = await serve(Loopback(drip))
    cml = client(certs, request_timeout=2.0)
    result = CMLCycleResult()
    began = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                await cycle(cml, url, result=result)
    finally:
        await cml.close()
    result.cut_short(1.0)
    assert time.monotonic() - began < 5
    assert result.system_health is not None and result.system_info is not None
    assert result.labs is None
    late = "no answer within the 1 s deadline"
    assert result.errors == {"lab_ids": late, "labs": late}


async def test_untrusted_target_is_never_contacted(certs, serve):
    server = Loopback()
    url = await serve(server)
    cml = client(certs)
    refused = CMLTarget("i-0abc", url, "", "", refusal="URL tag not trusted: test")
    try:
        result = await cml.fetch_cycle(
            refused, want_labs=True, want_licensing=True, want_users=True
        )
    finally:
        await cml.close()
    assert result.errors == {"url": "URL tag not trusted: test"}
    assert server.passwords_received == []


async def test_error_texts_from_cml_stay_short(certs, serve, cml: FakeCML):
    """A 500 with a huge body does not put that body in the error."""
    cml.faults["system_stats"] = "500"
    client_ = client(certs)
    try:
        result = await client_.fetch_cycle(
            cml.target(), want_labs=False, want_licensing=False, want_users=False
        )
    finally:
        await client_.close()
    assert result.errors["system_stats"] == "HTTP 500"


async def test_telemetry_read_is_bounded_by_the_worker_deadline(certs, serve):
    async def drip(request: web.Request, tail: str) -> web.StreamResponse | None:
        if tail != "telemetry/events":
            return None
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for char in json.dumps(_bodies(False)[tail]):
                await response.write(char.encode())
                await asyncio.sleep(0.2)
        except ConnectionError:
            pass
        return response

    url = await serve(Loopback(drip))
    cml = client(certs, request_timeout=2.0, worker_deadline=1.0)
    began = time.monotonic()
    try:
        with pytest.raises(CMLError, match="no answer within the 1 s deadline"):
            await cml.fetch_telemetry(target(url))
    finally:
        await cml.close()
    assert time.monotonic() - began < 4
