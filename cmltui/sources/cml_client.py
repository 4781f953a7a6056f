"""Pooled, bounded, token-caching client for the CML REST API.

One `aiohttp.ClientSession` serves every worker, so connections stay alive between cycles and a
cycle does not pay a TLS handshake per worker. A semaphore bounds the requests in flight across
all workers, and a per-worker one keeps a slow worker from holding more than its share of it.
A request's timeout covers connecting and each read, never the wait for a pooled connection;
the real bound is the caller's per-worker deadline (see `fetch_cycle`). Every body is capped in
size and JSON nesting depth. Failures never raise out of `fetch_cycle`: each call's failure
becomes a short, secret-free string in `CMLCycleResult.errors`, and marks that call only. The
client does not schedule; the collector says which optional calls (labs, licensing, users) a
cycle makes.

The collector says which calls a round makes (`/system_stats` every cycle, the rest on slower
cadences). A body identical to the one last seen for the same worker and path reuses what was
parsed from it: no decoding, no validation, no new objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, TypeAdapter, ValidationError

from cmltui.jsonbounds import json_depth
from cmltui.sources.cml_models import (
    LabIdList,
    LabResponse,
    LicensingStatus,
    SystemHealth,
    SystemInformation,
    SystemStats,
    TelemetryEventList,
    TelemetryEventResponse,
    UserList,
    UserResponse,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v0"
CONNECTIONS_PER_WORKER = 2
LAB_DETAIL_CONCURRENCY = 8
"""Lab detail requests of one worker in flight at once, so many labs do not starve the fleet."""

T = TypeVar("T")


_REUSED_PATHS = frozenset(
    {"/system_information", "/system_health", "/system_stats", "/labs", "/licensing", "/users"}
)
"""Paths whose last body and result are kept per worker, so an unchanged body is not reparsed."""


def _finished(result: CMLCycleResult, key: str) -> None:
    """Done with a call, unless it is being cancelled (then the deadline's report names it)."""
    task = asyncio.current_task()
    if task is None or not task.cancelling():
        result.pending.discard(key)


@dataclass(frozen=True)
class CMLTarget:
    """One CML worker to talk to. The password never appears in the repr."""

    worker_id: str
    base_url: str
    username: str
    password: str = field(repr=False)
    refusal: str | None = None
    """Set when the URL is not trusted with credentials: the worker is then not contacted."""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + API_PREFIX + path


@dataclass
class CMLCycleResult:
    """Outcome of one collection cycle for one worker; None means not fetched or failed."""

    system_information: SystemInformation | None = None
    system_health: SystemHealth | None = None
    system_info: dict[str, Any] | None = None  # /system_stats, normalised (`cml_system_info`)
    lab_ids: list[str] | None = None
    labs: list[LabResponse] | None = None
    licensing: LicensingStatus | None = None
    users: list[UserResponse] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    reachable: bool = False
    login_failed: bool = False
    pending: set[str] = field(default_factory=set)
    """Calls started and not finished: what a deadline cut short."""

    def cut_short(self, deadline: float) -> None:
        """The worker's deadline passed: every unfinished call is an error of its own."""
        for key in sorted(self.pending):
            self.errors[key] = f"no answer within the {deadline:g} s deadline"
        self.pending.clear()

    @property
    def complete(self) -> bool:
        """Every call attempted this cycle answered with valid data."""
        return self.reachable and not self.errors


@dataclass
class CMLRequestStats:
    """Request counters, for benchmarks and tests. `requests` includes the login POSTs."""

    requests: int = 0
    requests_by_worker: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    logins_by_worker: Counter[str] = field(default_factory=Counter)
    failures: int = 0  # no answer, an answer too large, or an HTTP error status

    def count_request(self, worker_id: str) -> None:
        self.requests += 1
        self.requests_by_worker[worker_id] += 1

    def count_login(self, worker_id: str) -> None:
        self.logins += 1
        self.logins_by_worker[worker_id] += 1


class CMLError(Exception):
    """A failed CML call, with a short message that is safe to show and log."""

    def __init__(
        self, message: str, *, login_failed: bool = False, transport: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.login_failed = login_failed
        self.transport = transport  # no HTTP answer at all (refused, timeout, TLS, reset)


@dataclass
class _WorkerAuth:
    """Token cache and login lock of one worker, kept across cycles."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    token: str | None = field(default=None, repr=False)


@dataclass
class _CallAuth:
    """Login bookkeeping of one cycle: at most one login attempt per worker and cycle."""

    attempted: bool = False
    failure: CMLError | None = None


def _shape_error(exc: ValidationError) -> CMLError:
    """First error location only: pydantic messages may echo input values."""
    errors = exc.errors(include_input=False, include_url=False)
    loc = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
    return CMLError(f"unexpected response shape: {loc or '(root)'}")


def _tls_reason(exc: aiohttp.ClientSSLError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        detail = getattr(cert_error, "verify_message", None) or getattr(cert_error, "reason", None)
        return f"certificate verify failed: {detail}" if detail else "certificate verify failed"
    os_error = getattr(exc, "os_error", None)
    reason = getattr(os_error, "reason", None) or getattr(os_error, "strerror", None)
    return _readable(str(reason or type(os_error or exc).__name__))


def _readable(reason: str) -> str:
    """OpenSSL reasons come as WRONG_VERSION_NUMBER; show them as words."""
    return reason.lower().replace("_", " ") if reason.isupper() else reason


def classify_exception(exc: BaseException) -> str:
    """A short, secret-free description of a transport failure."""
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS: {_tls_reason(exc)}"
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp's timeouts
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "connection refused"
        reason = getattr(os_error, "strerror", None) or type(os_error).__name__
        return f"connection failed: {reason}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {_readable(str(exc.reason or type(exc).__name__))}"
    if isinstance(exc, aiohttp.ClientError):
        return f"connection error: {type(exc).__name__}"
    if isinstance(exc, ConnectionError):
        return "connection reset"
    return f"error: {type(exc).__name__}"


async def _probe_information(result: CMLCycleResult, call: Callable[[], Any]) -> None:
    """After an HTTP failure: does CML answer at all? (`reachable` says so.)"""
    try:
        await call()
    except CMLError as exc:
        result.errors.setdefault("system_information", exc.message)
        return
    result.reachable = True


class CMLClient:
    """Talks to many CML workers through one pooled session; safe to share across tasks."""

    def __init__(
        self,
        *,
        request_timeout: float = 5.0,
        concurrency: int = 32,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        keepalive_timeout: float = 120.0,
        max_response_bytes: int = 4 * 1024 * 1024,
        max_json_depth: int = 32,
        worker_deadline: float = 10.0,
        action_timeout: float = 90.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.request_timeout = request_timeout
        self.concurrency = concurrency
        self.verify_tls = verify_tls
        self.ca_bundle = ca_bundle
        self.keepalive_timeout = keepalive_timeout
        self.max_response_bytes = max_response_bytes
        self.max_json_depth = max_json_depth
        self.worker_deadline = worker_deadline
        self.action_timeout = action_timeout
        self._worker_limits: dict[str, asyncio.Semaphore] = {}
        # Built now, so that a missing or broken CA bundle is a configuration error at start-up.
        self._ssl_context: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_bundle) if verify_tls else False
        )
        self.stats = CMLRequestStats()
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._auth: dict[tuple[str, str, str], _WorkerAuth] = {}
        self._last_parsed: dict[tuple[str, str], tuple[bytes, Any]] = {}

    # --- session -------------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        """Create the session lazily, inside the running loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.concurrency,
                # Two pooled connections per worker: a worker's calls share them, so a large
                # fleet keeps about 2 sockets per worker instead of one per concurrent call.
                limit_per_host=CONNECTIONS_PER_WORKER,
                keepalive_timeout=self.keepalive_timeout,
                ssl=self._ssl_context,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # No `total`: it would count the wait for a pooled connection, and a slow but
                # answering worker would look dead. Connecting and every read are bounded; the
                # caller's per-worker deadline bounds the whole.
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=None,
                    sock_connect=self.request_timeout,
                    sock_read=self.request_timeout,
                ),
                # Plain JSON, no cookies: CML's API authenticates with the bearer token alone.
                # A cookie a worker sets is never sent back, and with no compression there is
                # no decompressor per response (a fifth of aiohttp's cost of a small request)
                # and no compressed body to expand past the size cap.
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._worker_limits = {}  # semaphores belong to the loop of the session
        return self._session

    async def close(self) -> None:
        """Close the pooled session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _worker_auth(self, target: CMLTarget) -> _WorkerAuth:
        key = (target.worker_id, target.base_url, target.username)
        auth = self._auth.get(key)
        if auth is None:
            auth = self._auth[key] = _WorkerAuth()
        return auth

    # --- HTTP ----------------------------------------------------------------------------------

    async def _request(
        self,
        target: CMLTarget,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> tuple[int, bytes]:
        """One HTTP request: returns (status, body); raises CMLError on failure."""
        session = self._get_session()
        assert self._semaphore is not None
        if target.refusal is not None:
            raise CMLError(target.refusal)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        worker_limit = self._worker_limits.get(target.worker_id)
        if worker_limit is None:
            worker_limit = self._worker_limits[target.worker_id] = asyncio.Semaphore(
                CONNECTIONS_PER_WORKER
            )
        async with worker_limit, self._semaphore:
            self.stats.count_request(target.worker_id)
            try:
                async with session.request(
                    method,
                    target.url(path),
                    headers=headers,
                    json=json_body,
                    params=params,
                    allow_redirects=False,
                    **({"timeout": timeout} if timeout is not None else {}),
                ) as response:
                    status = response.status
                    body = await self._read_capped(response)  # error bodies too: keep-alive
            except CMLError:
                self.stats.failures += 1
                raise
            except Exception as exc:  # one worker's failure must never escape as a crash
                self.stats.failures += 1
                raise CMLError(classify_exception(exc), transport=True) from None
        if status >= 400:
            self.stats.failures += 1
        return status, body

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused as soon as it passes `max_response_bytes` (endless bodies end)."""
        limit = self.max_response_bytes
        if response.content_length is not None and response.content_length > limit:
            raise CMLError(f"response too large (over {limit} bytes)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise CMLError(f"response too large (over {limit} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, body: bytes) -> Any:
        """JSON, refused when malformed or nested deeper than `max_json_depth`."""
        try:
            value = json.loads(body)
        except RecursionError:
            raise CMLError("response nested too deeply") from None
        except ValueError:
            raise CMLError("malformed JSON") from None
        # Nesting cannot be deeper than the number of brackets that open it: a body with few
        # (every `/system_stats`) needs no walk, which costs more than parsing it.
        limit = self.max_json_depth
        if body.count(b"{") + body.count(b"[") > limit and json_depth(value, limit) > limit:
            raise CMLError(f"response nested too deeply (over {limit} levels)")
        return value

    async def _login(self, target: CMLTarget) -> str:
        """POST /authenticate; returns the JWT. The password goes only into the request body."""
        self.stats.count_login(target.worker_id)
        status, body = await self._request(
            target,
            "POST",
            "/authenticate",
            json_body={"username": target.username, "password": target.password},
        )
        if status in (401, 403):
            raise CMLError(f"login rejected (HTTP {status})", login_failed=True)
        if status >= 300:
            raise CMLError(f"login failed (HTTP {status})")
        token = self._decode(body)
        if not isinstance(token, str) or not token:
            raise CMLError("unexpected response shape: login token")
        return token

    async def _ensure_token(
        self, target: CMLTarget, call_auth: _CallAuth, failed_token: str | None
    ) -> str:
        """Return a usable token, logging in at most once per cycle and only when needed.

        `failed_token` is the token a call just saw rejected: a new login happens only if the
        cache still holds it (another call may already have replaced it).
        """
        auth = self._worker_auth(target)
        async with auth.lock:
            if auth.token is not None and auth.token != failed_token:
                return auth.token
            if call_auth.attempted:
                if call_auth.failure is not None:
                    raise call_auth.failure
                raise CMLError("unauthorized (HTTP 401)")
            call_auth.attempted = True
            auth.token = None
            try:
                auth.token = await self._login(target)
            except CMLError as exc:
                call_auth.failure = exc
                raise
            return auth.token

    async def _get_authed(
        self,
        target: CMLTarget,
        path: str,
        call_auth: _CallAuth,
        params: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """GET with the cached token; on a 401, log in again (once) and retry once."""
        return await self._authed(target, "GET", path, call_auth, params=params)

    async def _authed(
        self,
        target: CMLTarget,
        method: str,
        path: str,
        call_auth: _CallAuth,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> tuple[int, bytes]:
        """A call with the cached token; on a 401, log in again (once) and retry once."""
        token = await self._ensure_token(target, call_auth, None)
        extra = {"params": params, "json_body": json_body, "timeout": timeout}
        status, body = await self._request(target, method, path, token=token, **extra)
        if status == 401:
            token = await self._ensure_token(target, call_auth, token)
            status, body = await self._request(target, method, path, token=token, **extra)
            if status == 401:
                raise CMLError("unauthorized (HTTP 401)")
        return status, body

    def _validate(self, adapter: type[BaseModel] | TypeAdapter[T], status: int, body: bytes) -> Any:
        if status >= 300:
            raise CMLError(f"HTTP {status}")
        body = self._decode(body)  # bounded depth first: then the models
        try:
            if isinstance(adapter, TypeAdapter):
                return adapter.validate_python(body)
            if adapter is LicensingStatus:
                return LicensingStatus.from_response(body)
            return adapter.model_validate(body)
        except ValidationError as exc:
            raise _shape_error(exc) from None

    async def _fetch(
        self,
        target: CMLTarget,
        path: str,
        adapter: type[BaseModel] | TypeAdapter[Any],
        call_auth: _CallAuth,
        params: dict[str, str] | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> Any:
        """GET and parse; `convert` turns the model into what is kept (and reused)."""
        status, body = await self._get_authed(target, path, call_auth, params)
        if status >= 300 or path not in _REUSED_PATHS:
            parsed = self._validate(adapter, status, body)
            return convert(parsed) if convert else parsed
        key = (target.worker_id, path)
        last = self._last_parsed.get(key)
        if last is not None and last[0] == body:
            return last[1]  # the same bytes as last time: the same (immutable) result
        parsed = self._validate(adapter, status, body)
        if convert is not None:
            parsed = convert(parsed)
        self._last_parsed[key] = (body, parsed)
        return parsed

    def forget(self, worker_ids: Collection[str]) -> None:
        """Drop what is remembered of workers (parsed bodies, tokens), e.g. after a stop."""
        gone = set(worker_ids)
        for key in [k for k in self._last_parsed if k[0] in gone]:
            del self._last_parsed[key]
        for key in [k for k in self._auth if k[0] in gone]:
            del self._auth[key]

    # --- public API ----------------------------------------------------------------------------

    async def fetch_cycle(
        self,
        target: CMLTarget,
        *,
        want_labs: bool,
        want_licensing: bool,
        want_users: bool,
        known_lab_ids: Collection[str] | None = None,
        result: CMLCycleResult | None = None,
        want_stats: bool = True,
        want_system_information: bool = True,
        want_health: bool = True,
        want_lab_ids: bool = True,
    ) -> CMLCycleResult:
        """One round of reads for one worker. Never raises for a worker's failure.

        The first call proves the API answers: `/system_information` (no login needed) when it
        is wanted, else `/system_stats` (after a login if no token is cached). When it fails
        with no HTTP answer at all, no other call is made. When `/system_stats` fails with an
        HTTP answer, `/system_information` is asked too, to tell "CML is up but stats are
        broken" from "CML is not there". The other calls then run concurrently.

        Lab details are read when `want_labs`, or when the id list differs from `known_lab_ids`
        (a lab was added or removed since the details were last read); both need the ids. A
        caller that cuts the round short at a deadline passes its own `result` and keeps what
        had arrived by then.
        """
        result = CMLCycleResult() if result is None else result
        if target.refusal is not None:
            result.errors["url"] = target.refusal
            return result
        want_lab_ids = want_lab_ids or want_labs

        async def information() -> None:
            result.pending.add("system_information")
            try:
                status, body = await self._request(target, "GET", "/system_information")
                result.system_information = self._validate(SystemInformation, status, body)
            finally:  # a cancelled call (the deadline) stays pending, so `cut_short` names it
                _finished(result, "system_information")

        if want_system_information:
            try:
                await information()
            except CMLError as exc:
                log.debug("CML %s unreachable: %s", target.worker_id, exc.message)
                result.errors["system_information"] = exc.message
                return result
            result.reachable = True
        if not (want_stats or want_health or want_lab_ids or want_licensing or want_users):
            return result

        call_auth = _CallAuth()
        if self._worker_auth(target).token is None:
            # Log in once up front so that the concurrent calls below do not race to do it.
            result.pending.add("login")
            try:
                await self._ensure_token(target, call_auth, None)
            except CMLError as exc:
                log.debug("CML %s login: %s", target.worker_id, exc.message)
                result.errors["login"] = exc.message
                result.login_failed = exc.login_failed
                if not result.reachable and not exc.transport:
                    await _probe_information(result, information)
                return result
            finally:
                _finished(result, "login")

        async def run(key: str, coro: Any) -> None:
            result.pending.add(key)
            try:
                await coro
            except CMLError as exc:
                log.debug("CML %s %s: %s", target.worker_id, key, exc.message)
                result.errors[key] = exc.message
                result.login_failed = result.login_failed or exc.login_failed
            except Exception as exc:  # a body that breaks parsing marks this call only
                log.warning("CML %s %s: %r", target.worker_id, key, exc)
                result.errors[key] = f"unusable response ({type(exc).__name__})"
            finally:
                _finished(result, key)

        async def health() -> None:
            result.system_health = await self._fetch(
                target, "/system_health", SystemHealth, call_auth
            )

        async def stats() -> None:
            result.system_info = await self._fetch(
                target, "/system_stats", SystemStats, call_auth, convert=SystemStats.normalised
            )

        async def labs() -> None:
            result.lab_ids = await self._fetch(
                target, "/labs", LabIdList, call_auth, {"show_all": "true"}
            )
            changed = known_lab_ids is not None and set(result.lab_ids) != set(known_lab_ids)
            if want_labs or changed:
                await run("labs", self._fetch_labs(target, result, call_auth))

        async def licensing() -> None:
            result.licensing = await self._fetch(target, "/licensing", LicensingStatus, call_auth)

        async def users() -> None:
            result.users = await self._fetch(target, "/users", UserList, call_auth)

        if not result.reachable and want_stats:
            # /system_stats is the liveness check of this round.
            result.pending.add("system_stats")
            try:
                await stats()
            except CMLError as exc:
                log.debug("CML %s system_stats: %s", target.worker_id, exc.message)
                result.errors["system_stats"] = exc.message
                result.login_failed = exc.login_failed
                if not exc.transport:
                    await _probe_information(result, information)
                return result
            except Exception as exc:  # a body that breaks parsing marks this call only
                log.warning("CML %s system_stats: %r", target.worker_id, exc)
                result.errors["system_stats"] = f"unusable response ({type(exc).__name__})"
                await _probe_information(result, information)
                return result
            finally:
                _finished(result, "system_stats")
            result.reachable = True
            want_stats = False

        calls = []
        if want_stats:
            calls.append(run("system_stats", stats()))
        if want_health:
            calls.append(run("system_health", health()))
        if want_lab_ids:
            calls.append(run("lab_ids", labs()))
        if want_licensing:
            calls.append(run("licensing", licensing()))
        if want_users:
            calls.append(run("users", users()))
        await asyncio.gather(*calls)
        return result

    async def _fetch_labs(
        self, target: CMLTarget, result: CMLCycleResult, call_auth: _CallAuth
    ) -> None:
        """Lab details, a few at a time. A lab deleted since the id list (404) is skipped."""
        assert result.lab_ids is not None
        limit = asyncio.Semaphore(LAB_DETAIL_CONCURRENCY)

        async def one(lab_id: str) -> LabResponse | None:
            async with limit:
                status, body = await self._get_authed(target, f"/labs/{lab_id}", call_auth)
            if status == 404:
                return None
            lab: LabResponse = self._validate(LabResponse, status, body)
            return lab

        outcomes = await asyncio.gather(
            *(one(lab_id) for lab_id in result.lab_ids), return_exceptions=True
        )
        labs: list[LabResponse] = []
        failures: list[str] = []
        for outcome in outcomes:
            if isinstance(outcome, CMLError):
                failures.append(outcome.message)
                result.login_failed = result.login_failed or outcome.login_failed
            elif isinstance(outcome, BaseException):
                raise outcome
            elif outcome is not None:
                labs.append(outcome)
        result.labs = labs
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise CMLError(f"{failures[0]}{more}")

    async def send(
        self, target: CMLTarget, method: str, path: str, *, json_body: Any = None
    ) -> tuple[int, Any]:
        """One operator's call (a lab or licence operation): the status and the decoded body
        (None when empty or not JSON). Such calls may take CML a minute (a deregistration
        waits for Smart Licensing), so they have their own bound, `action_timeout`.

        The body sent may hold a secret (a licence token): it goes only into the request.
        """
        timeout = aiohttp.ClientTimeout(
            total=self.action_timeout, sock_connect=self.request_timeout
        )
        try:
            async with asyncio.timeout(self.action_timeout + self.request_timeout):
                status, raw = await self._authed(
                    target, method, path, _CallAuth(), json_body=json_body, timeout=timeout
                )
        except TimeoutError:
            raise CMLError(f"no answer within {self.action_timeout:g} s") from None
        try:
            body = self._decode(raw) if raw else None
        except CMLError:
            body = None
        return status, body

    async def read_lab(self, target: CMLTarget, lab_id: str) -> LabResponse | None:
        """One lab as CML has it now (read right before and after a lab operation); None when
        CML has no such lab."""
        path = f"/labs/{quote(lab_id, safe='')}"
        async with self._deadline():
            status, body = await self._get_authed(target, path, _CallAuth())
        if status == 404:
            return None
        lab: LabResponse = self._validate(LabResponse, status, body)
        return lab

    async def read_licensing(self, target: CMLTarget) -> LicensingStatus:
        """The licensing object now (read right after a registration or deregistration)."""
        async with self._deadline():
            licensing: LicensingStatus = await self._fetch(
                target, "/licensing", LicensingStatus, _CallAuth()
            )
        return licensing

    @contextlib.asynccontextmanager
    async def _deadline(self) -> AsyncIterator[None]:
        """The worker deadline around one read outside a cycle, as a `CMLError` when passed."""
        try:
            async with asyncio.timeout(self.worker_deadline):
                yield
        except TimeoutError:
            raise CMLError(f"no answer within the {self.worker_deadline:g} s deadline") from None

    async def fetch_telemetry(self, target: CMLTarget) -> list[TelemetryEventResponse]:
        """All telemetry events of a worker (the idle checker's only source).

        Raises `CMLError` with a short, secret-free message when the call fails, or when it
        has not finished within the worker deadline (a slow drip is bounded too).
        """
        if target.refusal is not None:
            raise CMLError(target.refusal)
        async with self._deadline():
            events: list[TelemetryEventResponse] = await self._fetch(
                target, "/telemetry/events", TelemetryEventList, _CallAuth()
            )
        return events
