"""`SimulatedFleet`: moto + the CML simulator, built from `build_fleet` and driven by one clock.

`start()` brings both servers up and creates the fleet; `step()` moves the simulation to the
clock's current time (EC2 state changes made through boto3, CML activity, CloudWatch
datapoints); a background task calls it every `tick_s` seconds. Nothing here is known to the
core: clients reach the fleet only through `aws_endpoint_url`, each worker's `cml_url` and the CA
file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import shlex
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cmltui.clock import Clock, SystemClock
from cmltui.domain.accounts import SIMULATED_ACCOUNTS
from cmltui.invocation import command
from cmltui.sim.aws import Datapoint, SimAws, naive_utc
from cmltui.sim.cml_model import ADMIN_USERNAME, CmlModel
from cmltui.sim.cml_server import CmlEndpoint, CmlServer, cancel_quietly
from cmltui.sim.fleet import AMIS, Fault, SimWorkerSpec, build_fleet
from cmltui.sim.tls import make_tls

ACCOUNT_NAMES = SIMULATED_ACCOUNTS
CW_PERIOD_S = 300
CW_WINDOW_S = 15 * 60
DISCOVERY_TAG = "cml-worker"
URL_TAG = "cmltui:cml-url"
CML_PASSWORD = "cmltui-sim-password"
DATA_PATH = ("/var/lib/libvirt/images", "nvme1n1", "ext4")
ROOT_PATH = ("/", "nvme0n1p1", "ext4")
_log = logging.getLogger(__name__)

FaultSetting = Fault | tuple[Fault, Mapping[str, float]] | None
Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`, called on the event loop's thread during `start()`."""

PHASE_INSTANCES = "creating instances"
PHASE_ENDPOINTS = "starting CML endpoints"
PHASE_CLOUDWATCH = "seeding CloudWatch"
_CHUNK = 50  # workers per progress report while creating instances and opening endpoints


@dataclass
class SimWorker:
    """One simulated worker: its spec, its EC2 instance and its CML endpoint."""

    spec: SimWorkerSpec
    region: str
    instance_id: str
    endpoint: CmlEndpoint
    model: CmlModel
    ec2_state: str
    boot_at: datetime | None = None  # CML accepts connections from this time on while running
    ready_at: datetime | None = None  # and answers `ready: true` from this time on
    account: int = 0  # index into the fleet's accounts
    account_name: str | None = None  # its name in cmltui's config (None: one account only)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def role(self) -> str:
        return self.spec.role

    @property
    def cml_url(self) -> str:
        return f"https://127.0.0.1:{self.endpoint.port}"

    @property
    def fault(self) -> Fault | None:
        return self.endpoint.fault

    @property
    def request_count(self) -> int:
        return self.endpoint.request_count

    @property
    def login_count(self) -> int:
        return self.endpoint.login_count


def _raise_fd_limit(wanted: int) -> None:
    """One listening port per worker: make room for them where the platform allows it."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _aligned(when: datetime, period: int = CW_PERIOD_S) -> datetime:
    ts = math.floor(when.timestamp() / period) * period
    return datetime.fromtimestamp(ts, tz=when.tzinfo)


class SimulatedFleet:
    """A deterministic fleet of simulated CML workers on EC2, served on loopback."""

    def __init__(
        self,
        workers: int = 12,
        seed: int = 0,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        extra_regions: tuple[str, ...] = (),
        boot_delay_s: float = 20.0,
        ready_delay_s: float = 25.0,
        faults: Mapping[str, FaultSetting] | None = None,
        tick_s: float = 2.0,
        accounts: int = 1,
    ) -> None:
        if not 1 <= accounts <= len(ACCOUNT_NAMES):
            raise ValueError(f"accounts: 1 to {len(ACCOUNT_NAMES)}")
        self.size = workers
        self.seed = seed
        self.clock: Clock = clock or SystemClock()
        self.host = host
        self.region = region
        self.regions = (region, *extra_regions)
        self.boot_delay_s = boot_delay_s
        self.ready_delay_s = ready_delay_s
        self.tick_s = tick_s
        self.specs = build_fleet(workers, seed, regions=len(self.regions))
        self.cml_username = ADMIN_USERNAME
        self.cml_password = CML_PASSWORD
        self.workers: list[SimWorker] = []
        self.t0: datetime | None = None
        self._initial_faults = dict(faults or {})
        self._aws = SimAws(host, self.clock, self.regions)
        self._accounts: list[SimAws] = [self._aws]  # the first one runs moto
        self.account_names: tuple[str, ...] = ACCOUNT_NAMES[:accounts] if accounts > 1 else ()
        self._cml: CmlServer | None = None
        self._tmp: Path | None = None
        self._by_key: dict[str, SimWorker] = {}
        self._task: asyncio.Task[None] | None = None
        self._reconciling: asyncio.Task[None] | None = None
        self._reconcile_lock = asyncio.Lock()
        self._last_cw: datetime | None = None
        self.ca_file = Path()
        self.credentials_file: Path | None = None  # one profile per account (several only)

    # ----- public facts -------------------------------------------------------------------------

    @property
    def aws_endpoint_url(self) -> str:
        return self._aws.endpoint_url

    @property
    def aws_credentials(self) -> dict[str, str]:
        return dict(self._aws.credentials)

    @property
    def account_id(self) -> str:
        return self._aws.account_id

    def account(self, name: str) -> SimAws:
        """A named account of a fleet with several (`accounts=2`): its id, key and role."""
        return self._accounts[self.account_names.index(name)]

    @property
    def aws(self) -> SimAws:
        return self._aws

    @property
    def cml_operations(self) -> set[tuple[str, str]]:
        """(METHOD, OpenAPI path) of every CML operation the simulator serves."""
        return self._cml.operations() if self._cml is not None else set()

    def worker(self, name_or_instance_id: str) -> SimWorker:
        try:
            return self._by_key[name_or_instance_id]
        except KeyError:
            raise KeyError(f"no simulated worker {name_or_instance_id!r}") from None

    def open_connections(self, name_or_instance_id: str) -> int:
        """Client connections open to the worker's CML now (each one cost a TLS handshake)."""
        worker = self.worker(name_or_instance_id)
        return self._cml.connections_to(worker.endpoint) if self._cml is not None else 0

    # ----- lifecycle ----------------------------------------------------------------------------

    async def start(self, progress: Progress | None = None) -> None:
        """Bring moto and the CML simulator up and build the fleet.

        `progress(phase, done, total)` is told how far each phase got (see the PHASE_*
        names); it runs on the loop's thread. Start-up takes about 1 s at 1000 workers; past
        that, moto's speed limits every client (one DescribeInstances over 1000 instances
        takes it 2.5-3.5 s).
        """
        report = progress or (lambda phase, done, total: None)
        _raise_fd_limit(max(4096, 2 * self.size + 1024))
        self._tmp = Path(tempfile.mkdtemp(prefix="cmltui-sim-"))
        tls = await asyncio.to_thread(make_tls, self._tmp)
        self.ca_file = tls.ca_file
        await asyncio.to_thread(self._aws.start, self.seed)
        for extra in range(1, len(self.account_names)):
            self._accounts.append(self._aws.another_account(extra))
        if self.account_names:
            self.credentials_file = self._tmp / "aws-credentials"
            self.credentials_file.write_text(aws_profiles_text(self), encoding="utf-8")
        self.t0 = t0 = self.clock.now()
        self._cml = CmlServer(self.host, self.clock, tls, secrets.token_bytes(32))
        await self._cml.start()
        for spec in self.specs:
            model = CmlModel(spec, self.seed, t0)
            endpoint = CmlEndpoint(spec.name, model, self.cml_username, self.cml_password)
            self._cml.add(endpoint)
            region = self.regions[spec.region_index]
            worker = SimWorker(spec, region, "", endpoint, model, "pending")
            if self.account_names:  # every other worker in the next account
                worker.account = len(self.workers) % len(self.account_names)
                worker.account_name = self.account_names[worker.account]
            self.workers.append(worker)
        report(PHASE_INSTANCES, 0, self.size)
        amis = await asyncio.to_thread(self._register_amis, t0)
        for first in range(0, self.size, _CHUNK):
            chunk = self.workers[first : first + _CHUNK]
            await asyncio.to_thread(self._create_instances, chunk, amis, t0)
            report(PHASE_INSTANCES, first + len(chunk), self.size)
        for worker in self.workers:
            self._by_key[worker.name] = worker
            self._by_key[worker.instance_id] = worker
            fault = worker.spec.default_fault
            setting = self._initial_faults.get(
                worker.name, self._initial_faults.get(worker.instance_id, fault)
            )
            if isinstance(setting, tuple):
                self._apply_fault(worker, setting[0], dict(setting[1]))
            else:
                self._apply_fault(worker, setting, {})
        report(PHASE_CLOUDWATCH, 0, len(self.regions))
        for k, region in enumerate(self.regions):
            for account in range(len(self._accounts)):
                self._seed_cloudwatch(account, region, t0)
            report(PHASE_CLOUDWATCH, k + 1, len(self.regions))
        self._last_cw = _aligned(t0)
        self._advance()
        await self._reconcile_all(report)
        self._task = asyncio.create_task(self._run(), name="cmltui-sim-fleet")

    async def stop(self) -> None:
        await cancel_quietly(self._task)
        self._task = None
        await cancel_quietly(self._reconciling)
        self._reconciling = None
        if self._cml is not None:
            await self._cml.stop()
            self._cml = None
        for account in reversed(self._accounts):  # the one running moto last
            await asyncio.to_thread(account.stop)
        self._accounts = [self._aws]
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def __aenter__(self) -> SimulatedFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _aws_of(self, worker: SimWorker) -> SimAws:
        return self._accounts[worker.account]

    def _register_amis(self, t0: datetime) -> dict[tuple[int, str, str], str]:
        amis: dict[tuple[int, str, str], str] = {}
        for account, aws in enumerate(self._accounts):
            for region in self.regions:
                for age, (key, (name, description)) in zip((120, 60), AMIS.items(), strict=True):
                    amis[(account, region, key)] = aws.register_ami(
                        region, name, description, t0 - timedelta(days=age)
                    )
        return amis

    def _create_instances(
        self, workers: list[SimWorker], amis: dict[tuple[int, str, str], str], t0: datetime
    ) -> None:
        with contextlib.ExitStack() as stack:
            for account, region in {(w.account, w.region) for w in workers}:
                stack.enter_context(self._accounts[account].quick_creation(region))
            for worker in workers:
                self._create_instance(worker, amis, t0)

    def _create_instance(
        self, worker: SimWorker, amis: dict[tuple[int, str, str], str], t0: datetime
    ) -> None:
        spec = worker.spec
        aws = self._aws_of(worker)
        worker.instance_id = aws.run_instance(
            worker.region,
            amis[(worker.account, worker.region, spec.ami_key)],
            spec.instance_type,
            self._tags(worker, t0),
            t0 - timedelta(seconds=spec.launched_ago_s),
            t0 - timedelta(seconds=spec.created_ago_s),
        )
        worker.ec2_state = "running"
        worker.boot_at = t0 - timedelta(seconds=spec.launched_ago_s - self.boot_delay_s)
        worker.ready_at = worker.boot_at + timedelta(seconds=self.ready_delay_s)
        if spec.initial_state == "stopped":
            stopped = t0 - timedelta(seconds=spec.stopped_ago_s or 0)
            aws.stop_instance(worker.region, worker.instance_id, stopped)
            worker.ec2_state = "stopped"

    def _tags(self, worker: SimWorker, t0: datetime) -> dict[str, str]:
        spec = worker.spec
        tags = {
            "Name": spec.name,
            DISCOVERY_TAG: "true",
            URL_TAG: worker.cml_url,
            "Project": "network-training",
        }
        if spec.created_by:
            tags["cmltui:created-by"] = spec.created_by
        if spec.idle_detection_tag:
            tags["cmltui:idle-detection"] = spec.idle_detection_tag
        for key, value in spec.history_tags:
            if key.endswith("-at"):
                value = (t0 - timedelta(seconds=float(value))).isoformat()
            tags[key] = value
        return tags

    # ----- faults -------------------------------------------------------------------------------

    def set_fault(self, name_or_id: str, fault: Fault | None, **params: float) -> None:
        """Inject (or clear, with None) a fault on one worker, effective at once."""
        self._apply_fault(self.worker(name_or_id), fault, params)
        self._schedule_reconcile()

    def _apply_fault(
        self, worker: SimWorker, fault: Fault | None, params: dict[str, float]
    ) -> None:
        ep = worker.endpoint
        if ep.fault is Fault.HANG and fault is not Fault.HANG:
            for task in list(ep._hanging):
                task.cancel()
        ep.fault, ep.fault_params = fault, dict(params)
        if fault is Fault.TOKEN_EXPIRY:
            cap = self.clock.now() + timedelta(seconds=float(params.get("ttl_s", 60.0)))
            ep.tokens = {t: min(exp, cap) for t, exp in ep.tokens.items()}
        if self._cml is not None and ep.wanted_listener() is None:
            self._cml.close_listener(ep)

    # ----- simulation ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance to clock.now(): EC2 state from moto, CML activity, CloudWatch, listeners.

        Listeners that must close close at once; ones that must open are opened by a task on
        the running loop (await `sync()` instead to know they are open).
        """
        self._advance()
        self._schedule_reconcile()

    def _advance(self) -> None:
        if self._cml is None:
            return
        now = self.clock.now()
        states: dict[tuple[int, str], str] = {}
        for account, aws in enumerate(self._accounts):
            for region in self.regions:
                for instance_id, state in aws.states(region).items():
                    states[(account, instance_id)] = state
        for worker in self.workers:
            state = states.get((worker.account, worker.instance_id), "terminated")
            if state != worker.ec2_state:
                self._transition(worker, worker.ec2_state, state, now)
            ep = worker.endpoint
            ep.serving = state == "running" and worker.boot_at is not None and now >= worker.boot_at
            ep.ready = ep.serving and worker.ready_at is not None and now >= worker.ready_at
            worker.model.advance(now, running=ep.serving)
            if ep.wanted_listener() is None and ep.listening:
                self._cml.close_listener(ep)
        self._cloudwatch_tick(now)

    def _transition(self, worker: SimWorker, old: str, new: str, now: datetime) -> None:
        worker.ec2_state = new
        if new == "running" and old != "running":
            # AWS moves LaunchTime on every start; CML boots from scratch.
            worker.boot_at = now + timedelta(seconds=self.boot_delay_s)
            worker.ready_at = worker.boot_at + timedelta(seconds=self.ready_delay_s)
            with contextlib.suppress(Exception):
                instance = self._aws_of(worker).instance(worker.region, worker.instance_id)
                instance.launch_time = naive_utc(now)
        elif new != "running":
            worker.boot_at = worker.ready_at = None
            worker.endpoint.tokens.clear()  # a reboot forgets sessions
        _log.debug("sim worker %s: %s -> %s", worker.name, old, new)

    async def sync(self) -> None:
        """`step()` and then wait until every listener matches its worker's state."""
        self._advance()
        await self._reconcile_all()

    def _schedule_reconcile(self) -> None:
        if self._cml is None or not any(self._cml.needs_change(w.endpoint) for w in self.workers):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the next sync() opens the listeners
        if self._reconciling is None or self._reconciling.done():
            self._reconciling = loop.create_task(self._reconcile_all())

    async def _reconcile_all(self, progress: Progress | None = None) -> None:
        async with self._reconcile_lock:
            total = len(self.workers)
            if progress is not None:
                progress(PHASE_ENDPOINTS, 0, total)
            for k, worker in enumerate(self.workers, start=1):
                cml = self._cml
                if cml is not None and cml.needs_change(worker.endpoint):
                    await cml.reconcile(worker.endpoint)
                if progress is not None and (k % _CHUNK == 0 or k == total):
                    progress(PHASE_ENDPOINTS, k, total)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:  # the demo must survive a bad tick
                _log.exception("simulated fleet step failed")

    # ----- CloudWatch ---------------------------------------------------------------------------

    def _points(self, worker: SimWorker, at: datetime) -> list[Datapoint]:
        iid = worker.instance_id
        model = worker.model
        points = [
            Datapoint(
                "AWS/EC2", "CPUUtilization", (("InstanceId", iid),), model.cpu_percent(at), at
            )
        ]
        if worker.spec.has_agent:
            instance = self._aws_of(worker).instance(worker.region, iid)
            base = (
                ("InstanceId", iid),
                ("ImageId", str(instance.image_id)),
                ("InstanceType", worker.spec.instance_type),
            )
            points.append(
                Datapoint(
                    "CWAgent",
                    "mem_used_percent",
                    base,
                    round(100 * model.memory_fraction(at), 2),
                    at,
                )
            )
            for (path, device, fstype), extra in ((ROOT_PATH, -12.0), (DATA_PATH, 0.0)):
                dims = (*base, ("path", path), ("device", device), ("fstype", fstype))
                value = max(1.0, 100 * model.disk_fraction(at) + extra)
                points.append(Datapoint("CWAgent", "disk_used_percent", dims, round(value, 2), at))
        return points

    def _seed_cloudwatch(self, account: int, region: str, now: datetime) -> None:
        last = _aligned(now)
        points = []
        for worker in self._running_in(account, region):
            for k in (2, 1, 0):
                points += self._points(worker, last - timedelta(seconds=k * CW_PERIOD_S))
        self._accounts[account].put(region, points)

    def _running_in(self, account: int, region: str) -> list[SimWorker]:
        return [
            w
            for w in self.workers
            if w.account == account and w.region == region and w.ec2_state == "running"
        ]

    def _cloudwatch_tick(self, now: datetime) -> None:
        at = _aligned(now)
        if self._last_cw is not None and at <= self._last_cw:
            return
        self._last_cw = at
        for account, aws in enumerate(self._accounts):
            for region in self.regions:
                points = []
                for worker in self._running_in(account, region):
                    points += self._points(worker, at)
                aws.put(region, points)
                aws.prune(region, now - timedelta(seconds=CW_WINDOW_S))


def profile_name(account: str) -> str:
    return f"cmltui-sim-{account}"


def aws_profiles_text(fleet: SimulatedFleet) -> str:
    """A shared-credentials file with one profile per simulated account (dummy keys)."""
    lines = []
    for name in fleet.account_names:
        creds = fleet.account(name).credentials
        lines += [
            f"[{profile_name(name)}]",
            f"aws_access_key_id = {creds['aws_access_key_id']}",
            f"aws_secret_access_key = {creds['aws_secret_access_key']}",
            "",
        ]
    return "\n".join(lines)


def accounts_toml(fleet: SimulatedFleet) -> list[str]:
    """`[[aws.accounts]]` for the simulated accounts: by profile, or the second and later
    through a role assumed with the first account's key."""
    lines: list[str] = []
    for k, name in enumerate(fleet.account_names):
        lines += ["", "[[aws.accounts]]", f'name = "{name}"', f'profile = "{profile_name(name)}"']
        if k:
            lines += [
                "# or through a role, assumed with the first account's key:",
                f'# role_arn = "{fleet.account(name).role_arn()}"',
            ]
    return lines


def simulate_exports(fleet: SimulatedFleet) -> list[tuple[str, str]]:
    """The environment that points cmltui (and virl2-client) at the fleet, TLS verified."""
    creds = fleet.aws_credentials
    answering = [w for w in fleet.workers if w.ec2_state == "running" and w.fault is None]
    exports = [
        ("AWS_ENDPOINT_URL", fleet.aws_endpoint_url),
        ("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"]),
        ("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"]),
        ("AWS_DEFAULT_REGION", fleet.region),
        ("CMLTUI_REGIONS", ",".join(fleet.regions)),
        ("CMLTUI_CML_USERNAME", fleet.cml_username),
        ("CMLTUI_CML_PASSWORD", fleet.cml_password),
        ("CMLTUI_CML_CA_BUNDLE", str(fleet.ca_file)),
        # The workers' `cmltui:cml-url` tags name the simulator's loopback host, which is not
        # an instance address: cmltui trusts such a tag (and sends it a password) only when
        # the host is allowed explicitly.
        ("CMLTUI_CML_ALLOWED_HOSTS", fleet.host),
        # virl2-client's own variables: a script needs only ClientLibrary(url).
        ("VIRL2_USER", fleet.cml_username),
        ("VIRL2_PASS", fleet.cml_password),
        ("CML_VERIFY_CERT", str(fleet.ca_file)),
    ]
    if answering:
        exports.append(("VIRL2_URL", answering[0].cml_url))
    if fleet.credentials_file is not None:  # the accounts' profiles (config printed below)
        exports.append(("AWS_SHARED_CREDENTIALS_FILE", str(fleet.credentials_file)))
    return exports


def simulate_info_text(fleet: SimulatedFleet) -> str:
    """What `cmltui simulate` prints: how to point cmltui, or any AWS/CML client, at the fleet."""
    creds = fleet.aws_credentials
    regions = ", ".join(f'"{r}"' for r in fleet.regions)
    lines = [
        "cmltui simulated fleet",
        "",
        f"AWS endpoint:   {fleet.aws_endpoint_url}   (moto: EC2 + CloudWatch)",
        f"AWS regions:    {', '.join(fleet.regions)}",
        f"AWS access key: {creds['aws_access_key_id']}",
        f"AWS secret key: {creds['aws_secret_access_key']}   (dummy, simulator only)",
        f"CA file:        {fleet.ca_file}",
        f"CML username:   {fleet.cml_username}",
        f"CML password:   {fleet.cml_password}   (simulator only)",
        "",
        f"{'worker':<20} {'region':<15} {'instance':<21} {'state':<9} CML URL",
    ]
    for w in fleet.workers:
        lines.append(
            f"{w.name:<20} {w.region:<15} {w.instance_id:<21} {w.ec2_state:<9} {w.cml_url}"
            + (f"  ({w.account_name})" if w.account_name else "")
        )
    lines += ["", "Environment (paste as it is; then the command below, or a virl2-client script):"]
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in simulate_exports(fleet)]
    ca = shlex.quote(str(fleet.ca_file))
    lines += [
        "",
        "Then run cmltui on it (this very cmltui, whether or not its venv is activated):",
        f"  {command('run')}",
        "",
        "Other HTTPS clients need the CA file too; set it for one command only, since it",
        "replaces the system CAs:",
        f"  REQUESTS_CA_BUNDLE={ca} python script.py   # requests",
        f"  SSL_CERT_FILE={ca} python script.py        # httpx, urllib, OpenSSL",
        f"  curl --cacert {ca} <CML URL>/api/v0/system_information",
        "",
        "cmltui config (TOML):",
        "  [aws]",
        f'  endpoint_url = "{fleet.aws_endpoint_url}"',
        f"  regions = [{regions}]",
        "",
        "  [cml]",
        f'  username = "{fleet.cml_username}"',
        '  password_env = "CMLTUI_CML_PASSWORD"',
        f'  ca_bundle = "{fleet.ca_file}"',
        f'  allowed_hosts = ["{fleet.host}"]   # the URL tags point at the simulator',
    ]
    if fleet.account_names:
        lines += ["  " + line if line else "" for line in accounts_toml(fleet)]
        lines += [
            "",
            f"The accounts' profiles are in {fleet.credentials_file}",
            "(AWS_SHARED_CREDENTIALS_FILE above points at it; or paste it into"
            " ~/.aws/credentials):",
            "",
        ]
        lines += [f"  {line}" if line else "" for line in aws_profiles_text(fleet).splitlines()]
    lines.append("")
    return "\n".join(lines)
