"""The CML client against a loopback HTTPS stand-in: parsing, TLS, tokens, faults, pooling."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cmltui.sources.cml_client import CMLClient, CMLError, CMLTarget

if TYPE_CHECKING:
    from tests.sources.conftest import Certs, FakeCML

USERNAME = "admin"
PASSWORD = "pa55-Wd!never-shown"  # must match the stand-in (conftest.py)
LICENSE_TOKEN = "SLtoken-NEVER-SHOWN-123"
LAB_IDS = ["90f84e38-a71c-4d57-8d90-00fa8a197385", "60f84e39-ffff-4d99-8a78-00fa8aaf5666"]

ALL = {"want_labs": True, "want_licensing": True, "want_users": True}
BASE = {"want_labs": False, "want_licensing": False, "want_users": False}


def target_for(cml: FakeCML, worker_id: str = "i-0abc") -> CMLTarget:
    assert (cml.USERNAME, cml.PASSWORD, cml.LICENSE_TOKEN) == (USERNAME, PASSWORD, LICENSE_TOKEN)
    assert cml.LAB_IDS == LAB_IDS
    return cml.target(worker_id)


@pytest.fixture
async def client(certs: Certs) -> AsyncIterator[CMLClient]:
    c = CMLClient(ca_bundle=certs.ca_file, request_timeout=2.0)
    yield c
    await c.close()


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text
        assert LICENSE_TOKEN not in text
        assert "hdr.payload" not in text  # the JWTs the stand-in issues


async def test_full_cycle_parses_every_model(cml: FakeCML, client: CMLClient) -> None:
    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert result.errors == {}
    assert result.complete and result.reachable and not result.login_failed
    assert result.system_information is not None
    assert result.system_information.version == "2.9.0+build.3"
    assert result.system_information.ready is True
    health = result.system_health
    assert health is not None and health.valid is True and health.is_licensed is True
    assert health.controller is not None and health.controller.core_connected is True
    assert [c.hostname for c in health.computes.values()] == ["cml-controller"]
    # /system_stats comes normalised from the source (`cml_system_info`): node counts summed
    info = result.system_info
    assert info is not None and info["cpu_percent"] == 37.5 and info["memory_total"] == 192e9
    assert info["running_nodes"] == 9
    (compute,) = info["computes"].values()
    assert compute["running_nodes"] == 9 and compute["hostname"] == "cml-controller"
    assert result.lab_ids == LAB_IDS
    assert result.labs is not None
    assert sorted((lab.lab_title, lab.state) for lab in result.labs) == [
        ("Lab 0", "STARTED"),
        ("Lab 1", "STOPPED"),
    ]
    assert result.licensing is not None and result.licensing.registration is not None
    assert result.licensing.registration.status == "COMPLETED"
    assert result.licensing.authorization is not None
    assert result.licensing.authorization.status == "AUTHORIZED"
    assert result.users is not None and {u.username for u in result.users} == {"admin", "alice"}
    assert client.stats.logins == 1
    # 1 login + information, health, stats, lab ids, 2 labs, licensing, users
    assert client.stats.requests == client.stats.requests_by_worker["i-0abc"] == 9


async def test_want_flags_limit_the_calls(cml: FakeCML, client: CMLClient) -> None:
    result = await client.fetch_cycle(target_for(cml), **BASE)

    assert result.complete
    assert result.lab_ids == LAB_IDS
    assert result.labs is None and result.licensing is None and result.users is None
    assert sorted(cml.requests) == [
        "GET labs",
        "GET system_health",
        "GET system_information",
        "GET system_stats",
        "POST authenticate",
    ]


async def test_tls_untrusted_certificate_is_refused(cml: FakeCML) -> None:
    client = CMLClient(request_timeout=2.0)  # system CAs only
    try:
        result = await client.fetch_cycle(target_for(cml), **BASE)
    finally:
        await client.close()
    assert not result.reachable
    error = result.errors["system_information"]
    assert error.startswith("TLS: certificate verify failed"), error
    assert cml.requests == []


async def test_tls_works_with_ca_bundle_and_with_explicit_opt_out(
    cml: FakeCML, certs: Certs
) -> None:
    for client in (CMLClient(ca_bundle=certs.ca_file), CMLClient(verify_tls=False)):
        try:
            result = await client.fetch_cycle(target_for(cml), **BASE)
        finally:
            await client.close()
        assert result.complete, result.errors


async def test_tls_handshake_failure_is_classified(client: CMLClient) -> None:
    async def refuse_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(bytes.fromhex("15030100020228"))  # TLS alert: handshake_failure
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse_handshake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        target = CMLTarget("i-tls", f"https://127.0.0.1:{port}", USERNAME, PASSWORD)
        result = await client.fetch_cycle(target, **BASE)
    finally:
        server.close()
        await server.wait_closed()
    assert result.errors == {"system_information": "TLS: sslv3 alert handshake failure"}


def test_missing_ca_bundle_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        CMLClient(ca_bundle=str(tmp_path / "missing.pem"))


async def test_token_reused_across_cycles(cml: FakeCML, client: CMLClient) -> None:
    for _ in range(3):
        assert (await client.fetch_cycle(target_for(cml), **ALL)).complete
    assert cml.logins == 1
    assert client.stats.logins_by_worker["i-0abc"] == 1


async def test_tokens_are_cached_per_worker(cml: FakeCML, client: CMLClient) -> None:
    for worker_id in ("i-1", "i-2", "i-1", "i-2"):
        assert (await client.fetch_cycle(target_for(cml, worker_id), **BASE)).complete
    assert cml.logins == 2
    assert client.stats.logins_by_worker == {"i-1": 1, "i-2": 1}


async def test_expired_token_causes_exactly_one_relogin(cml: FakeCML, client: CMLClient) -> None:
    assert (await client.fetch_cycle(target_for(cml), **ALL)).complete
    cml.expire_tokens()

    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert result.complete, result.errors
    assert cml.logins == 2  # not one per concurrent call
    assert cml.gets("system_health") == 3  # first cycle, the 401, the retry


async def test_rejected_login_is_one_attempt_per_cycle(cml: FakeCML, client: CMLClient) -> None:
    cml.reject_all = True
    for cycle in range(1, 4):
        result = await client.fetch_cycle(target_for(cml), **ALL)
        assert result.reachable and result.login_failed and not result.complete
        assert result.errors == {"login": "login rejected (HTTP 401)"}
        assert cml.logins == cycle
    assert cml.gets("system_health") == 0


async def test_rejection_with_cached_token_relogs_once(cml: FakeCML, client: CMLClient) -> None:
    assert (await client.fetch_cycle(target_for(cml), **ALL)).complete
    cml.reject_all = True

    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert result.login_failed and result.reachable and not result.complete
    assert cml.logins == 2
    assert set(result.errors) == {"system_health", "system_stats", "lab_ids", "licensing", "users"}
    assert set(result.errors.values()) == {"login rejected (HTTP 401)"}


async def test_hanging_endpoint_returns_within_the_timeout(cml: FakeCML, certs: Certs) -> None:
    cml.faults["system_stats"] = "hang"
    client = CMLClient(ca_bundle=certs.ca_file, request_timeout=0.5)
    try:
        started = time.monotonic()
        result = await asyncio.wait_for(client.fetch_cycle(target_for(cml), **ALL), 10)
        elapsed = time.monotonic() - started
    finally:
        await client.close()
    assert elapsed < 3.0
    assert result.errors == {"system_stats": "timeout"}
    assert result.system_health is not None and result.labs is not None


async def test_hanging_liveness_check_is_unreachable(cml: FakeCML, certs: Certs) -> None:
    cml.faults["system_information"] = "hang"
    client = CMLClient(ca_bundle=certs.ca_file, request_timeout=0.5)
    try:
        started = time.monotonic()
        result = await asyncio.wait_for(client.fetch_cycle(target_for(cml), **ALL), 10)
        assert time.monotonic() - started < 3.0
    finally:
        await client.close()
    assert not result.reachable and result.errors == {"system_information": "timeout"}


@pytest.mark.parametrize(
    ("path", "fault", "key", "message"),
    [
        ("system_health", "500", "system_health", "HTTP 500"),
        ("system_stats", "malformed", "system_stats", "malformed JSON"),
        ("system_stats", "shape", "system_stats", "unexpected response shape: all.cpu.percent"),
        ("labs", "shape", "lab_ids", "unexpected response shape: 0"),
        ("licensing", "500", "licensing", "HTTP 500"),
        ("users", "shape", "users", "unexpected response shape: 0"),
        (f"labs/{LAB_IDS[1]}", "malformed", "labs", "malformed JSON"),
    ],
)
async def test_a_failing_call_lands_in_errors_for_that_call_only(
    cml: FakeCML, client: CMLClient, path: str, fault: str, key: str, message: str
) -> None:
    cml.faults[path] = fault

    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert result.errors == {key: message}
    assert result.reachable and not result.complete and not result.login_failed
    assert result.system_information is not None
    present = {
        "system_health": result.system_health,
        "system_stats": result.system_info,
        "lab_ids": result.lab_ids,
        "licensing": result.licensing,
        "users": result.users,
    }
    for name, value in present.items():
        assert (value is None) == (name == key), name
    if key == "labs":
        assert result.labs is not None and [lab.id for lab in result.labs] == [LAB_IDS[0]]


async def test_lab_deleted_since_listing_is_skipped(cml: FakeCML, client: CMLClient) -> None:
    cml.phantom_labs.append("11111111-2222-4333-8444-555555555555")  # listed, then 404

    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert result.complete, result.errors
    assert result.lab_ids is not None and len(result.lab_ids) == 3
    assert result.labs is not None and sorted(lab.id for lab in result.labs) == sorted(LAB_IDS)


async def test_failing_liveness_check_makes_no_other_calls(cml: FakeCML, client: CMLClient) -> None:
    cml.faults["system_information"] = "500"

    result = await client.fetch_cycle(target_for(cml), **ALL)

    assert not result.reachable and not result.complete
    assert result.errors == {"system_information": "HTTP 500"}
    assert cml.requests == ["GET system_information"]
    assert result.system_health is None and result.lab_ids is None


async def test_unknown_fields_are_ignored(cml: FakeCML, client: CMLClient) -> None:
    cml.extra_fields = True
    result = await client.fetch_cycle(target_for(cml), **ALL)
    assert result.complete, result.errors
    assert result.system_information is not None
    assert not hasattr(result.system_information, "quantum_mode")


async def test_licensing_token_is_never_kept(cml: FakeCML, client: CMLClient) -> None:
    result = await client.fetch_cycle(target_for(cml), **ALL)
    licensing = result.licensing
    assert licensing is not None

    public = licensing.as_public_dict()
    assert public["registration"]["status"] == "COMPLETED"
    assert public["registration"]["smart_account"] == "Lab Org"
    assert "token" not in public["registration"] and "id_token" not in public
    assert_no_secrets(str(public), repr(licensing), licensing.model_dump_json(), repr(result))


async def test_password_never_in_reprs_errors_or_logs(
    cml: FakeCML, client: CMLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target = target_for(cml)
    assert_no_secrets(repr(target), str(target))
    cml.reject_all = True
    rejected = await client.fetch_cycle(target, **ALL)
    cml.reject_all = False
    cml.faults["system_health"] = "500"
    failed = await client.fetch_cycle(target, **ALL)
    assert rejected.errors and failed.errors
    assert_no_secrets(repr(rejected), repr(failed), repr(client.stats), caplog.text)


async def test_connection_refused_is_classified(client: CMLClient, closed_port: int) -> None:
    target = CMLTarget("i-down", f"https://127.0.0.1:{closed_port}", USERNAME, PASSWORD)
    result = await client.fetch_cycle(target, **ALL)
    assert result.errors == {"system_information": "connection refused"}
    assert not result.reachable


async def test_three_cycles_reuse_one_connection(cml: FakeCML, certs: Certs) -> None:
    client = CMLClient(ca_bundle=certs.ca_file, concurrency=1)
    try:
        for _ in range(3):
            assert (await client.fetch_cycle(target_for(cml), **ALL)).complete
    finally:
        await client.close()
    assert len(cml.requests) == 1 + 3 * 8
    assert len(cml.connections) == 1
    assert cml.max_in_flight == 1  # the concurrency bound holds


async def test_later_cycles_open_no_new_connections(cml: FakeCML, client: CMLClient) -> None:
    await client.fetch_cycle(target_for(cml), **ALL)
    after_first = len(cml.connections)
    for _ in range(2):
        await client.fetch_cycle(target_for(cml), **ALL)
    assert cml.max_in_flight > 1  # calls of one worker do run concurrently
    assert len(cml.connections) == after_first


async def test_fetch_telemetry(cml: FakeCML, client: CMLClient) -> None:
    events = await client.fetch_telemetry(target_for(cml))
    assert [e.category for e in events] == ["start_lab", "user_activity"]
    assert all(e.timestamp.tzinfo is not None for e in events)
    assert events[0].timestamp.utcoffset() == UTC.utcoffset(None)
    assert cml.logins == 1


async def test_fetch_telemetry_failure_raises_a_clean_error(
    cml: FakeCML, client: CMLClient
) -> None:
    cml.faults["telemetry/events"] = "shape"
    with pytest.raises(CMLError) as excinfo:
        await client.fetch_telemetry(target_for(cml))
    assert excinfo.value.message == "unexpected response shape: 0"
    cml.faults.clear()
    cml.reject_all = True
    with pytest.raises(CMLError) as excinfo:
        await client.fetch_telemetry(target_for(cml))
    assert excinfo.value.login_failed
