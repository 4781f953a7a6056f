"""Each injected fault shows up as its own failure for a plain aiohttp client."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from cmltui.sim import Fault, SimulatedFleet
from tests.sim.sim_helpers import API, assert_valid, client_ssl, get_json, login, response_validator

pytestmark = pytest.mark.asyncio(loop_scope="module")
NAME = "cml-busy-01"


async def _healthy(fleet: SimulatedFleet) -> None:
    """Clearing a fault brings the worker back."""
    fleet.set_fault(NAME, None)
    await fleet.sync()
    ctx = client_ssl(fleet.ca_file)
    async with aiohttp.ClientSession() as s:
        url = fleet.worker(NAME).cml_url
        token = await login(s, url, fleet.cml_username, fleet.cml_password, ctx)
        assert (await get_json(s, url, "/system_stats", token, ctx))[0] == 200


async def test_refuse(fleet: SimulatedFleet) -> None:
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker(NAME).cml_url
    async with aiohttp.ClientSession() as s:
        token = await login(s, url, fleet.cml_username, fleet.cml_password, ctx)
        fleet.set_fault(NAME, Fault.REFUSE)
        # The open keep-alive connection is cut, and new ones are refused.
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await get_json(s, url, "/system_stats", token, ctx)
        assert isinstance(info.value.os_error, ConnectionRefusedError)
    # The down worker of the mix refuses too.
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientConnectorError):
            await get_json(s, fleet.worker("cml-down-07").cml_url, "/system_information", None, ctx)
    await _healthy(fleet)


async def test_hang(fleet: SimulatedFleet) -> None:
    fleet.set_fault(NAME, Fault.HANG)
    ctx = client_ssl(fleet.ca_file)
    timeout = aiohttp.ClientTimeout(total=0.5)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        with pytest.raises(asyncio.TimeoutError):
            await get_json(s, fleet.worker(NAME).cml_url, "/system_information", None, ctx)
    await _healthy(fleet)


async def test_slow(fleet: SimulatedFleet) -> None:
    fleet.set_fault(NAME, Fault.SLOW, delay_s=0.3)
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker(NAME).cml_url
    async with aiohttp.ClientSession() as s:
        started = time.perf_counter()
        status, _ = await get_json(s, url, "/system_information", None, ctx)
        assert status == 200 and time.perf_counter() - started >= 0.3
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.1)) as s:
        with pytest.raises(asyncio.TimeoutError):
            await get_json(s, url, "/system_information", None, ctx)
    await _healthy(fleet)


async def test_http_500(fleet: SimulatedFleet) -> None:
    fleet.set_fault(NAME, Fault.HTTP_500)
    ctx = client_ssl(fleet.ca_file)
    async with aiohttp.ClientSession() as s:
        status, body = await get_json(
            s, fleet.worker(NAME).cml_url, "/system_information", None, ctx
        )
    assert status == 500
    assert_valid(response_validator("/system_information", "get", "default"), body, "500")
    await _healthy(fleet)


async def test_unauthorized_everywhere(fleet: SimulatedFleet) -> None:
    fleet.set_fault(NAME, Fault.UNAUTHORIZED)
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker(NAME).cml_url
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"{url}{API}/authenticate",
            ssl=ctx,
            json={"username": fleet.cml_username, "password": fleet.cml_password},
        ) as r:
            assert r.status == 401
        for path in ("/system_information", "/system_stats", "/labs"):
            assert (await get_json(s, url, path, "x.y.z", ctx))[0] == 401
    await _healthy(fleet)


async def test_malformed_json(fleet: SimulatedFleet) -> None:
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker(NAME).cml_url
    fleet.set_fault(NAME, Fault.MALFORMED_JSON)
    async with aiohttp.ClientSession() as s:
        token = await login(s, url, fleet.cml_username, fleet.cml_password, ctx)  # still works
        for path in ("/system_information", "/system_stats", "/labs"):
            with pytest.raises(json.JSONDecodeError):
                await get_json(s, url, path, token, ctx)
    await _healthy(fleet)


async def test_wrong_shape(fleet: SimulatedFleet) -> None:
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker(NAME).cml_url
    fleet.set_fault(NAME, Fault.WRONG_SHAPE)
    async with aiohttp.ClientSession() as s:
        token = await login(s, url, fleet.cml_username, fleet.cml_password, ctx)
        status, info = await get_json(s, url, "/system_information", None, ctx)
        assert status == 200 and isinstance(info, list)
        assert not response_validator("/system_information", "get", "200").is_valid(info)
        status, labs = await get_json(s, url, "/labs", token, ctx)
        assert status == 200 and isinstance(labs, dict)
    await _healthy(fleet)


async def test_tls_failure(fleet: SimulatedFleet) -> None:
    fleet.set_fault(NAME, Fault.TLS_FAILURE)
    await fleet.sync()
    ctx = client_ssl(fleet.ca_file)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await get_json(s, fleet.worker(NAME).cml_url, "/system_information", None, ctx)
    await _healthy(fleet)


async def test_counters_count_requests_and_logins(fleet: SimulatedFleet) -> None:
    w = fleet.worker("cml-noagent-09")
    ctx = client_ssl(fleet.ca_file)
    requests, logins = w.request_count, w.login_count
    async with aiohttp.ClientSession() as s:
        token = await login(s, w.cml_url, fleet.cml_username, fleet.cml_password, ctx)
        for _ in range(3):
            await get_json(s, w.cml_url, "/system_stats", token, ctx)
    assert (w.request_count - requests, w.login_count - logins) == (4, 1)


async def test_faults_can_be_set_at_start() -> None:
    from datetime import UTC, datetime

    from cmltui.clock import ManualClock

    sim = SimulatedFleet(
        workers=2,
        clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
        faults={"cml-busy-01": (Fault.SLOW, {"delay_s": 0.2}), "cml-labs-02": Fault.HTTP_500},
    )
    await sim.start()
    try:
        assert sim.worker("cml-busy-01").fault is Fault.SLOW
        assert sim.worker("cml-busy-01").endpoint.fault_params == {"delay_s": 0.2}
        ctx = client_ssl(sim.ca_file)
        async with aiohttp.ClientSession() as s:
            status, _ = await get_json(
                s, sim.worker("cml-labs-02").cml_url, "/system_information", None, ctx
            )
            assert status == 500
    finally:
        await sim.stop()
