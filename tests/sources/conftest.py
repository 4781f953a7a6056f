"""A small CML API stand-in on 127.0.0.1 over HTTPS, with switchable faults.

It serves only what the CML client reads, with bodies shaped like `cml-openapi-2.9.json`. It is
deliberately independent of `cmltui.sim`, so the client is tested against something it was not
written together with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import logging
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.server import ThreadedMotoServer

from cmltui.sources.cml_client import CMLTarget
from tests.sources.moto_env import isolate_aws_env

API = "/api/v0"
USERNAME = "admin"
PASSWORD = "pa55-Wd!never-shown"
LICENSE_TOKEN = "SLtoken-NEVER-SHOWN-123"
LAB_IDS = ["90f84e38-a71c-4d57-8d90-00fa8a197385", "60f84e39-ffff-4d99-8a78-00fa8aaf5666"]
COMPUTE_ID = "1d2a7f3e-5b6c-4d7e-8f90-a1b2c3d4e5f6"
OWNER_ID = "00000000-0000-4000-a000-000000000000"


@dataclass(frozen=True)
class Certs:
    ca_file: str
    cert_file: str
    key_file: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost."""
    out: Path = tmp_path_factory.mktemp("certs")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cmltui test CA"))
        .issuer_name(_name("cmltui test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = Certs(
        ca_file=str(out / "ca.pem"), cert_file=str(out / "cert.pem"), key_file=str(out / "key.pem")
    )
    Path(files.ca_file).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    Path(files.cert_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(files.key_file).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _bodies(extra: bool) -> dict[str, Any]:
    """Plausible CML 2.9 bodies; `extra` adds fields a newer CML might send."""
    bodies: dict[str, Any] = {
        "system_information": {
            "version": "2.9.0+build.3",
            "ready": True,
            "allow_ssh_pubkey_auth": False,
            "oui": "52:54:00:00:00:00",
        },
        "system_health": {
            "valid": True,
            "is_licensed": True,
            "is_enterprise": False,
            "computes": {
                COMPUTE_ID: {
                    "kvm_vmx_enabled": True,
                    "enough_cpus": True,
                    "lld_connected": True,
                    "lld_synced": True,
                    "libvirt": True,
                    "fabric": True,
                    "device_mux": True,
                    "refplat_images_available": True,
                    "docker_shim": True,
                    "valid": True,
                    "admission_state": "READY",
                    "is_controller": True,
                    "hostname": "cml-controller",
                }
            },
            "controller": {
                "core_connected": True,
                "nodes_loaded": True,
                "images_loaded": True,
                "valid": True,
            },
        },
        "system_stats": {
            "computes": {
                COMPUTE_ID: {
                    "hostname": "cml-controller",
                    "is_controller": True,
                    "stats": {
                        "cpu": {
                            "count": 48,
                            "percent": 37.5,
                            "model": "Intel Xeon",
                            "predicted": 48,
                            "load": [1.5, 1.2, 1.0],
                        },
                        "memory": {"used": 64e9, "free": 128e9, "total": 192e9},
                        "disk": {"used": 200e9, "free": 800e9, "total": 1000e9},
                        "dominfo": {
                            "total_nodes": 12,
                            "total_orphans": 0,
                            "running_nodes": 9,
                            "running_orphans": 0,
                            "allocated_cpus": 20,
                            "allocated_memory": 40960,
                        },
                    },
                }
            },
            "all": {
                "cpu": {"count": 48, "percent": 37.5},
                "memory": {"used": 64e9, "free": 128e9, "total": 192e9},
                "disk": {"used": 200e9, "free": 800e9, "total": 1000e9},
            },
            "controller": {"disk": {"used": 200e9, "free": 800e9, "total": 1000e9}},
        },
        "labs": LAB_IDS,
        "licensing": {
            "udi": {"hostname": "cml-controller", "product_uuid": "abc-123"},
            "registration": {
                "status": "COMPLETED",
                "smart_account": "Lab Org",
                "virtual_account": "Default",
                "expires": "2027-01-01T00:00:00+00:00",
                "token": LICENSE_TOKEN,
            },
            "authorization": {"status": "AUTHORIZED", "expires": "2027-01-01T00:00:00+00:00"},
            "reservation_mode": False,
            "features": [{"id": "regid.2019-10.com.cisco.CML_NODE_COUNT,1.0_x", "in_use": 9}],
            "product_license": {"active": "CML_Enterprise", "is_enterprise": True},
            "transport": {
                "ssms": "https://smartreceiver.cisco.com/licservice/license",
                "default_ssms": "https://smartreceiver.cisco.com/licservice/license",
                "proxy": {"server": None, "port": None},
            },
            "id_token": LICENSE_TOKEN,
        },
        "users": [
            {"id": OWNER_ID, "username": "admin", "fullname": "Admin", "admin": True},
            {"id": LAB_IDS[1], "username": "alice", "fullname": "Alice", "admin": False},
        ],
        "telemetry/events": [
            {
                "category": "start_lab",
                "timestamp": "2026-11-28T10:00:00",
                "data": {"lab_id": LAB_IDS[0]},
            },
            {
                "category": "user_activity",
                "timestamp": "2026-11-28T10:05:00+00:00",
                "data": {"user_id": OWNER_ID},
            },
        ],
    }
    for n, lab_id in enumerate(LAB_IDS):
        bodies[f"labs/{lab_id}"] = {
            "id": lab_id,
            "lab_title": f"Lab {n}",
            "owner": OWNER_ID,
            "owner_username": "admin",
            "state": "STARTED" if n == 0 else "STOPPED",
            "node_count": 5 + n,
            "link_count": 4,
            "created": "2026-11-01T08:00:00+00:00",
            "modified": "2026-11-28T08:00:00+00:00",
            "effective_permissions": ["lab_admin"],
        }
    if extra:
        bodies["system_information"]["quantum_mode"] = {"enabled": True}
        bodies["system_health"]["controller"]["new_check"] = True
        bodies["system_stats"]["all"]["gpu"] = {"count": 2}
        bodies["users"][0]["pronouns"] = "they"
    return bodies


@dataclass
class FakeCML:
    """State and fault switches of the stand-in server."""

    USERNAME = USERNAME
    PASSWORD = PASSWORD
    LICENSE_TOKEN = LICENSE_TOKEN
    LAB_IDS = LAB_IDS

    faults: dict[str, str] = field(default_factory=dict)  # path -> 500|malformed|shape|hang|401
    reject_all: bool = False  # 401 on every authenticated call and on login
    extra_fields: bool = False
    phantom_labs: list[str] = field(default_factory=list)  # listed, but 404 on details
    valid_tokens: set[str] = field(default_factory=set)
    logins: int = 0
    requests: list[str] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def target(self, worker_id: str = "i-0abc") -> CMLTarget:
        return CMLTarget(worker_id, self.base_url, USERNAME, PASSWORD)

    def gets(self, path: str) -> int:
        return sum(1 for r in self.requests if r == f"GET {path}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # let concurrent requests overlap visibly
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        self.requests.append(f"{request.method} {tail}")
        self.connections.add(id(request.transport))
        fault = self.faults.get(tail)
        if fault == "hang":
            await self.release.wait()
        if tail == "authenticate" and request.method == "POST":
            return await self._login(request)
        if tail != "system_information":
            header = request.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ")
            if self.reject_all or token not in self.valid_tokens or fault == "401":
                return web.json_response({"description": "No authorization"}, status=401)
        if fault == "500":
            return web.json_response({"description": "boom"}, status=500)
        if fault == "malformed":
            return web.Response(text='{"version": "2.9', content_type="application/json")
        if fault == "shape":
            bad = {"all": {"cpu": {"percent": "lots"}}} if tail == "system_stats" else [1, 2]
            return web.json_response(bad)
        body = _bodies(self.extra_fields).get(tail)
        if tail == "labs":
            body = [*LAB_IDS, *self.phantom_labs]
        if body is None:
            return web.json_response({"description": "not found"}, status=404)
        return web.json_response(body)

    async def _login(self, request: web.Request) -> web.Response:
        self.logins += 1
        data = await request.json()
        if self.reject_all or data != {"username": USERNAME, "password": PASSWORD}:
            return web.json_response({"description": "Authentication failed"}, status=401)
        token = f"hdr.payload{next(self._counter)}.sig"
        self.valid_tokens.add(token)
        return web.json_response(token)


async def start_server(fake: FakeCML, ssl_context: ssl.SSLContext) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", API + "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"https://127.0.0.1:{port}"
    return runner


@pytest.fixture
async def cml(certs: Certs) -> AsyncIterator[FakeCML]:
    """A running stand-in CML worker over HTTPS signed by the test CA."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(certs.cert_file, certs.key_file)
    fake = FakeCML()
    runner = await start_server(fake, server_ctx)
    try:
        yield fake
    finally:
        fake.release.set()
        await runner.cleanup()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- moto's server on 127.0.0.1, for the AWS source tests ---------------------------------------


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> str:
    """A clean moto, and an environment in which nothing but moto can be reached."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=5).close()
    isolate_aws_env(monkeypatch, tmp_path)
    return moto_server
