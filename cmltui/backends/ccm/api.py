"""Cloud Manager's REST API: the worker list, its idle verdicts and labs, and the actions.

Routes follow upstream's controllers: `WorkersController` (`GET /api/workers/region/{r}/workers`,
`GET …/workers/{id}/idle-status`, `POST …/workers/{id}/idle-detection/enable|disable`,
`POST …/workers/{id}/stop|start`, `POST|DELETE …/workers/{id}/license`) and `LabsController`
(`GET /api/labs/region/{r}/workers/{id}/labs`, `POST …/labs/{lab_id}/start|stop|wipe`).
The region is upstream's enum (`CCM_REGIONS`); the worker actions need the `admin` role. A rejected
token is refreshed when `TokenProvider` allows it and the call retried once. Bodies are read with a
size and depth limit; errors are one-line, bounded text.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from cmltui.backends.ccm.auth import TokenProvider
from cmltui.config import ConfigError
from cmltui.domain.sanitize import error_text, public_json
from cmltui.jsonbounds import loads_bounded

CCM_REGIONS: Final = ("us-east-1", "us-west-2")
"""Upstream's `AwsRegion` enum (`integration/enums/aws_regions.py`): its routes answer any other
region with a 422."""
MAX_LIST_BYTES = 64 * 1024 * 1024  # the worker list of a whole region
MAX_BODY_BYTES = 4 * 1024 * 1024  # one worker's idle verdict or labs, an action's answer
ACTIONS = {
    "enable_idle": "idle-detection/enable",
    "disable_idle": "idle-detection/disable",
    "stop": "stop",
    "start": "start",
}
ADMIN_ROLE_MISSING = "the token lacks Cloud Manager's admin role"


class CcmError(Exception):
    """The call failed: network, TLS, a 5xx, or a body that is not what the route returns."""


class CcmAuthError(CcmError):
    """The token was rejected (401), even after a refresh."""


class CcmRefused(CcmError):
    """Cloud Manager said no (403, 404, 400, 409, 422): nothing changed."""


def ssl_context(verify: bool, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Verified TLS by default, against a CA bundle when given; False only when opted out."""
    if not verify:
        return False
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


def check_regions(regions: Iterable[str], key: str) -> None:
    """Refuse, before anything is sent, a region Cloud Manager's routes would answer 422."""
    wrong = [region for region in regions if region not in CCM_REGIONS]
    if wrong:
        raise ConfigError(
            f"{key}: {error_text(', '.join(wrong), 80)} not served by Cloud Manager "
            f"(its regions: {', '.join(CCM_REGIONS)})"
        )


class CcmApi:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        tokens: TokenProvider,
        *,
        max_depth: int = 32,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.max_depth = max_depth

    async def list_workers(self, region: str) -> list[dict[str, Any]]:
        """Every active worker of a region, as Cloud Manager's DTO dicts (tokens removed)."""
        body = await self._call("GET", _workers(region), limit=MAX_LIST_BYTES)
        if not isinstance(body, list):
            raise CcmError(f"worker list of {error_text(region, 40)}: expected a JSON list")
        return [public_json(item) for item in body if isinstance(item, Mapping)]

    async def idle_status(self, region: str, worker_id: str) -> Any:
        """Cloud Manager's idle verdict on one worker (read by `cmltui.ccm_facts`)."""
        return await self._call("GET", worker_path(region, worker_id, "idle-status"))

    async def labs(self, region: str, worker_id: str) -> Any:
        """The labs Cloud Manager has recorded for one worker (read by `cmltui.ccm_facts`)."""
        return await self._call("GET", _labs(region, worker_id))

    async def action(self, region: str, worker_id: str, action: str) -> bool:
        """Send an action; False when Cloud Manager answered that it had nothing to do.

        Its events carry the result, so an answer that cannot be read does not make an accepted
        action a failure (True). Only the idle-detection routes say when there was nothing to do
        (`enable_idle_detection_command.py`, `disable_…`: `{"message": "Idle detection already
        enabled"}`, and no event); stop and start answer `true` either way.
        """
        path = worker_path(region, worker_id, ACTIONS[action])
        answer = await self._call("POST", path, answer_needed=False, admin=True)
        return not _nothing_done(answer)

    async def lab_action(self, region: str, worker_id: str, lab_id: str, verb: str) -> None:
        """Upstream's `LabsController`: `POST …/labs/{lab_id}/start|stop|wipe` (200 once CML
        did it; the lab's new state follows in `worker.labs.updated`)."""
        path = f"{_labs(region, worker_id)}/{_segment(lab_id)}/{verb}"
        await self._call("POST", path, answer_needed=False)

    async def register_licence(
        self, region: str, worker_id: str, token: str, *, reregister: bool
    ) -> None:
        """`POST …/workers/{id}/license` (202: its job runs on); the token is in the body only."""
        body = {"license_token": token, "reregister": reregister}
        path = worker_path(region, worker_id, "license")
        await self._call("POST", path, body=body, answer_needed=False, admin=True, secrets=(token,))

    async def deregister_licence(self, region: str, worker_id: str) -> None:
        """`DELETE …/workers/{id}/license` (202: its job runs on)."""
        path = worker_path(region, worker_id, "license")
        await self._call("DELETE", path, answer_needed=False, admin=True)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        limit: int = MAX_BODY_BYTES,
        answer_needed: bool = True,
        admin: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        """The call; a refusal or error names Cloud Manager's reason with `secrets` (what
        the body sends) cut out of it."""
        token = await self.tokens.token()
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                async with self.session.request(
                    method, self.base_url + path, headers=headers, json=body
                ) as response:
                    raw = await response.content.read(limit + 1)
                    status = response.status
            except aiohttp.ClientError as exc:
                raise CcmError(f"Cloud Manager unreachable: {type(exc).__name__}") from None
            except TimeoutError:
                raise CcmError("Cloud Manager did not answer in time") from None
            if status == 401 and attempt == 0:
                fresh = await self.tokens.rejected(token)
                if fresh != token:
                    token = fresh
                    continue
            if status < 300:
                self.tokens.accepted(token)
            return self._result(
                status, raw, limit, answer_needed=answer_needed, admin=admin, secrets=secrets
            )
        raise CcmAuthError("token rejected")  # pragma: no cover - the loop always returns

    def _result(
        self,
        status: int,
        raw: bytes,
        limit: int,
        *,
        answer_needed: bool,
        admin: bool,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        body: Any = None
        readable = len(raw) <= limit
        if raw and readable:
            try:
                body = public_json(loads_bounded(raw, self.max_depth, constants_as_none=True))
            except ValueError:
                readable = False
        if status == 401:
            raise CcmAuthError("token rejected (set $CMLTUI_CCM_TOKEN or source.token_command)")
        if status == 403 and admin:
            why = problem_text(body, secrets)
            raise CcmRefused(f"Cloud Manager refused: {ADMIN_ROLE_MISSING} (403: {why})")
        if status in (400, 403, 404, 409, 422):
            raise CcmRefused(f"Cloud Manager refused ({status}): {problem_text(body, secrets)}")
        if status >= 300:
            raise CcmError(f"Cloud Manager error {status}: {problem_text(body, secrets)}")
        if not answer_needed:
            return body  # None when it could not be read
        if not readable:
            why = "too large" if len(raw) > limit else "malformed or too deeply nested JSON"
            raise CcmError(f"Cloud Manager answered with {why}")
        return body


def problem_text(body: Any, secrets: tuple[str, ...] = ()) -> str:
    """What a refusal says, bounded to one short line: a problem-details `detail` or `title`,
    or FastAPI's validation list (`[{loc, msg, type}]`) as `path.field: message`; `secrets`
    (what the request sent) cut out."""
    if isinstance(body, Mapping):
        detail = body.get("detail")
        if isinstance(detail, list):
            parts = [_validation_item(item) for item in detail[:5]]
            text = "; ".join(part for part in parts if part)
            if text:
                return error_text(text, secrets=secrets)
        for key in ("detail", "title", "message"):
            if isinstance(body.get(key), str):
                return error_text(body[key], secrets=secrets)
    return "no detail"


def _nothing_done(answer: Any) -> bool:
    """Cloud Manager's answer says the state already was what the action asked for."""
    message = answer.get("message") if isinstance(answer, Mapping) else None
    return isinstance(message, str) and "already" in message.lower()


def _validation_item(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    loc = item.get("loc")
    where = ".".join(str(part) for part in loc[:6]) if isinstance(loc, list) else ""
    msg = item.get("msg") if isinstance(item.get("msg"), str) else ""
    if not where and not msg:
        return None
    return f"{where}: {msg}" if where else msg


def _workers(region: str) -> str:
    return f"/api/workers/region/{_segment(region)}/workers"


def worker_path(region: str, worker_id: str, tail: str) -> str:
    """A worker's route under upstream's `WorkersController`."""
    return f"{_workers(region)}/{_segment(worker_id)}/{tail}"


def _labs(region: str, worker_id: str) -> str:
    return f"/api/labs/region/{_segment(region)}/workers/{_segment(worker_id)}/labs"


def _segment(value: str) -> str:
    return quote(value, safe="")
