"""Cloud Manager's REST API: the worker list and the actions (aiohttp, bearer token).

Routes follow its `WorkersController`: `GET /api/workers/region/{r}/workers`,
`POST .../workers/{id}/idle-detection/enable|disable`, `POST .../workers/{id}/stop|start`,
`POST|DELETE .../workers/{id}/license`; and its `LabsController`:
`POST /api/labs/region/{r}/workers/{id}/labs/{lab_id}/start|stop|wipe`.
A rejected token is refreshed once and the call retried. Errors are one-line, bounded text.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from cmltui.backends.ccm.auth import TokenProvider
from cmltui.domain.sanitize import public_json

MAX_BODY_BYTES = 64 * 1024 * 1024
ACTIONS = {
    "enable_idle": "idle-detection/enable",
    "disable_idle": "idle-detection/disable",
    "stop": "stop",
    "start": "start",
}


class CcmError(Exception):
    """The call failed: network, TLS, a 5xx, or a body that is not what the route returns."""


class CcmAuthError(CcmError):
    """The token was rejected (401), even after a refresh."""


class CcmRefused(CcmError):
    """Cloud Manager said no (403, 404, 400, 409): nothing changed."""


def ssl_context(verify: bool, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Verified TLS by default, against a CA bundle when given; False only when opted out."""
    if not verify:
        return False
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


class CcmApi:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, tokens: TokenProvider
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens

    async def headers(self) -> dict[str, str]:
        token = await self.tokens.token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def list_workers(self, region: str) -> list[dict[str, Any]]:
        """Every active worker of a region, as Cloud Manager's DTO dicts (tokens removed)."""
        body = await self._call("GET", f"/api/workers/region/{quote(region, safe='')}/workers")
        if not isinstance(body, list):
            raise CcmError(f"worker list of {region}: expected a JSON list")
        return [public_json(item) for item in body if isinstance(item, Mapping)]

    async def action(self, region: str, worker_id: str, action: str) -> Any:
        return public_json(
            await self._call("POST", worker_path(region, worker_id, ACTIONS[action]))
        )

    async def lab_action(self, region: str, worker_id: str, lab_id: str, verb: str) -> Any:
        """Upstream's `LabsController`: `POST /api/labs/region/{r}/workers/{id}/labs/{lab}/…`."""
        path = (
            f"/api/labs/region/{quote(region, safe='')}/workers/{quote(worker_id, safe='')}"
            f"/labs/{quote(lab_id, safe='')}/{verb}"
        )
        return public_json(await self._call("POST", path))

    async def register_licence(
        self, region: str, worker_id: str, token: str, *, reregister: bool
    ) -> Any:
        """`POST …/workers/{id}/license` (202: its job runs on); the token is in the body only."""
        body = {"license_token": token, "reregister": reregister}
        path = worker_path(region, worker_id, "license")
        return public_json(await self._call("POST", path, body))

    async def deregister_licence(self, region: str, worker_id: str) -> Any:
        """`DELETE …/workers/{id}/license` (202: its job runs on)."""
        return public_json(await self._call("DELETE", worker_path(region, worker_id, "license")))

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        for attempt in range(2):
            headers = await self.headers()
            try:
                async with self.session.request(
                    method, self.base_url + path, headers=headers, json=body
                ) as response:
                    if response.status == 401 and attempt == 0:
                        await self.tokens.refresh()
                        continue
                    raw = await response.content.read(MAX_BODY_BYTES)
                    return _result(response.status, raw)
            except aiohttp.ClientError as exc:
                raise CcmError(f"Cloud Manager unreachable: {type(exc).__name__}") from None
            except TimeoutError:
                raise CcmError("Cloud Manager did not answer in time") from None
        raise CcmAuthError("token rejected")  # pragma: no cover - the loop always returns


def _result(status: int, raw: bytes) -> Any:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if status == 401:
        raise CcmAuthError("token rejected (set $CMLTUI_CCM_TOKEN or source.token_command)")
    if status in (400, 403, 404, 409, 422):
        raise CcmRefused(f"Cloud Manager refused ({status}): {problem_text(body)}")
    if status >= 300:
        raise CcmError(f"Cloud Manager error {status}: {problem_text(body)}")
    if raw and body is None:
        raise CcmError("Cloud Manager answered with malformed JSON")
    return body


def worker_path(region: str, worker_id: str, tail: str) -> str:
    """A worker's route under upstream's `WorkersController`."""
    return (
        f"/api/workers/region/{quote(region, safe='')}/workers/{quote(worker_id, safe='')}/{tail}"
    )


def problem_text(body: Any) -> str:
    """The `detail` or `title` of a problem-details body, bounded to one short line."""
    if isinstance(body, Mapping):
        for key in ("detail", "title", "message"):
            if isinstance(body.get(key), str):
                return " ".join(body[key].split())[:200]
    return "no detail"
