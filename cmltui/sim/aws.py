"""The AWS half of the simulated fleet: moto's ThreadedMotoServer (EC2 + CloudWatch) on loopback.

Clients talk to moto over HTTP like to AWS. The simulator itself seeds and reads moto's
in-process backends, because that is the only way to give instances launch and attach times
from the injected clock (moto stamps the wall clock) and it keeps a 1000-worker fleet quick to
build. Each fleet gets its own AWS account in moto (chosen by its dummy access key), so two
fleets in one process do not see each other.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmltui.clock import Clock, ensure_utc
from cmltui.sim.moto_loading import sessions_sharing_data

with sessions_sharing_data():
    import moto.ec2.models.instances as moto_instances
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
    from moto.ec2.models import ec2_backends
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
    from moto.iam.models import iam_backends
    from moto.server import ThreadedMotoServer
    from moto.sts.models import sts_backends

_accounts = itertools.count(1)
SIM_ROLE = "cmltui-sim-operator"
_clock_lock = threading.Lock()
_active_clocks: list[Clock] = []
_original_utcnow = moto_instances.utcnow


def _sim_utcnow() -> datetime:
    """moto's EC2 stop/start reasons use this: the newest running fleet's clock, naive UTC."""
    with _clock_lock:
        clock = _active_clocks[-1] if _active_clocks else None
    if clock is None:
        return _original_utcnow()
    return naive_utc(clock.now())


def naive_utc(value: datetime) -> datetime:
    """moto keeps naive UTC datetimes."""
    return ensure_utc(value).replace(tzinfo=None)


_WILDCARDS = frozenset("*?[]\\")


def _look_up_tags_directly(backend: Any) -> None:
    """moto finds one resource's tags (for each instance it filters or describes) by scanning
    the tags of every resource in the region, so a DescribeInstances grows with the square of
    the fleet. A lookup by one resource id without wildcards reads that resource's own tags
    instead: the same answer, in the same order."""
    scan = type(backend).describe_tags

    def describe_tags(filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
        ids = filters.get("resource-id") if filters is not None and len(filters) == 1 else None
        if ids and len(ids) == 1 and isinstance(ids[0], str) and not _WILDCARDS & set(ids[0]):
            resource_id = ids[0]
            kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
            tags = dict(backend.tags.get(resource_id, {}))  # `tags` is a defaultdict: no insert
            return [
                {"resource_id": resource_id, "key": k, "value": v, "resource_type": kind}
                for k, v in tags.items()
            ]
        return scan(backend, filters)

    backend.describe_tags = describe_tags


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float
    timestamp: datetime
    unit: str = "Percent"


class SimAws:
    """One moto server plus this fleet's account in moto's backends."""

    def __init__(self, host: str, clock: Clock, regions: Iterable[str], *, extra: int = 0) -> None:
        """`extra` > 0: the fleet's extra account number `extra`, on the first one's server."""
        n = next(_accounts)
        self.host = host
        self.clock = clock
        self.regions = tuple(regions)
        if extra:
            self.account_id = f"{310987650000 + 100 * n + extra:012d}"
            key_id = f"AKIASIMACCT{extra}{n:08d}"
        else:
            self.account_id = f"{210987650000 + n:012d}"
            key_id = f"AKIASIMFLEET{n:08d}"
        self.credentials = {
            "aws_access_key_id": key_id,
            "aws_secret_access_key": "cmltui-simulated-secret-key-not-real",
        }
        self.endpoint_url = ""
        self._server: ThreadedMotoServer | None = None
        self._instances: dict[str, Any] = {}  # moto's get_instance scans every reservation

    def role_arn(self) -> str:
        """A role in this account that the first account's key may assume (moto lets it)."""
        return f"arn:aws:iam::{self.account_id}:role/{SIM_ROLE}"

    def another_account(self, extra: int) -> SimAws:
        """One more account on this server, with its own access key (call after `start`)."""
        other = SimAws(self.host, self.clock, self.regions, extra=extra)
        other.endpoint_url = self.endpoint_url
        other._register_key()
        return other

    def _register_key(self) -> None:
        """moto tells accounts apart by the access key: ours exists in this account only."""
        iam = iam_backends[self.account_id]["aws"]
        key = iam.create_temp_access_key()
        del iam.access_keys[key.access_key_id]
        key.access_key_id = self.credentials["aws_access_key_id"]
        key.secret_access_key = self.credentials["aws_secret_access_key"]
        iam.access_keys[key.access_key_id] = key

    # ----- lifecycle ----------------------------------------------------------------------------

    def start(self, seed: int) -> None:
        """Blocking: start moto, register our access key, seed moto's id generator."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._register_key()
        with _clock_lock:
            if moto_instances.utcnow is _original_utcnow:
                moto_instances.utcnow = _sim_utcnow  # type: ignore[assignment]
            _active_clocks.append(self.clock)
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/seed?a={seed}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        """Blocking: stop moto (if this account started it) and drop the account's backends."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            with _clock_lock:
                if self.clock in _active_clocks:
                    _active_clocks.remove(self.clock)
                if not _active_clocks:
                    moto_instances.utcnow = _original_utcnow  # type: ignore[assignment]
        for backends in (ec2_backends, cloudwatch_backends, iam_backends, sts_backends):
            if self.account_id in backends:
                del backends[self.account_id]

    # ----- EC2 ----------------------------------------------------------------------------------

    def ec2(self, region: str) -> Any:
        backend = ec2_backends[self.account_id][region]
        if "describe_tags" not in vars(backend):
            _look_up_tags_directly(backend)
        return backend

    def register_ami(self, region: str, name: str, description: str, created: datetime) -> str:
        ami = self.ec2(region).register_image(name=name, description=description)
        ami.creation_date = naive_utc(created)
        return str(ami.id)

    @contextlib.contextmanager
    def quick_creation(self, region: str) -> Iterator[None]:
        """Create many instances without moto's quadratic paths.

        For each new instance moto looks its AMI up twice among every AMI it knows (about
        1300, matched one by one with fnmatch), and finds the instance it attaches the root volume
        to by copying and scanning every reservation. For our own AMIs and our own newest
        instance the direct lookups give the same answers. Only this fleet's account backend
        is touched, and only while the fleet creates its instances.
        """
        backend = self.ec2(region)
        amis = backend.amis

        def describe_images(
            ami_ids: list[str] | None = None, filters: dict[str, Any] | None = None, **kwargs: Any
        ) -> Any:
            wanted = ami_ids
            if not ami_ids and filters and set(filters) == {"image-id"}:
                value = filters["image-id"]
                wanted = [value] if isinstance(value, str) else list(value)
            ours = bool(wanted) and all(isinstance(i, str) and i in amis for i in wanted or ())
            if ours and not kwargs and (not ami_ids or not filters):
                return [amis[i] for i in wanted or ()]
            return type(backend).describe_images(
                backend, ami_ids=ami_ids, filters=filters, **kwargs
            )

        def get_instance(instance_id: str) -> Any:
            for reservation in reversed(backend.reservations.values()):
                for instance in reservation.instances:
                    if instance.id == instance_id:
                        return instance
            return type(backend).get_instance(backend, instance_id)

        backend.describe_images = describe_images
        backend.get_instance = get_instance
        try:
            yield
        finally:
            del backend.describe_images
            del backend.get_instance

    def run_instance(
        self,
        region: str,
        ami_id: str,
        instance_type: str,
        tags: dict[str, str],
        launched: datetime,
        created: datetime,
    ) -> str:
        reservation = self.ec2(region).run_instances(
            ami_id,
            1,
            None,
            [],
            instance_type=instance_type,
            is_instance_type_default=True,  # our types are real ones: skip the offering scan
            region_name=region,
            nics=[],
            security_group_ids=[],
            launch_template={},
            tags={"instance": dict(tags)},
            monitoring_state="disabled",
        )
        instance = reservation.instances[0]
        self._instances[str(instance.id)] = instance
        instance.launch_time = naive_utc(launched)
        for block in instance.block_device_mapping.values():
            block.attach_time = naive_utc(created)
            volume = self.ec2(region).volumes.get(block.volume_id)
            if volume is not None and volume.attachment is not None:
                volume.attachment.attach_time = naive_utc(created)
        return str(instance.id)

    def instance(self, region: str, instance_id: str) -> Any:
        cached = self._instances.get(instance_id)
        return cached if cached is not None else self.ec2(region).get_instance(instance_id)

    def stop_instance(self, region: str, instance_id: str, when: datetime) -> None:
        self.ec2(region).stop_instances([instance_id])
        self.instance(
            region, instance_id
        )._reason = f"User initiated ({naive_utc(when):%Y-%m-%d %H:%M:%S} UTC)"

    def states(self, region: str) -> dict[str, str]:
        """Instance id -> EC2 state name, read from moto's backend (cheap, no XML)."""
        out: dict[str, str] = {}
        for reservation in list(self.ec2(region).reservations.values()):
            for instance in list(reservation.instances):
                out[instance.id] = instance._state.name
        return out

    # ----- CloudWatch ---------------------------------------------------------------------------

    def put(self, region: str, points: Iterable[Datapoint]) -> None:
        backend = cloudwatch_backends[self.account_id][region]
        new = [
            MetricDatum(
                namespace=p.namespace,
                name=p.name,
                value=float(p.value),
                dimensions=[{"Name": k, "Value": v} for k, v in p.dimensions],
                timestamp=naive_utc(p.timestamp),
                unit=p.unit,
            )
            for p in points
        ]
        # Swap in a new list: moto's server thread may be iterating the old one.
        backend.metric_data = [*backend.metric_data, *new]

    def prune(self, region: str, before: datetime) -> None:
        """Drop datapoints older than `before`: moto slows down as stored points grow."""
        backend = cloudwatch_backends[self.account_id][region]
        cutoff = naive_utc(before)
        backend.metric_data = [d for d in backend.metric_data if naive_utc(d.timestamp) >= cutoff]

    def datapoint_count(self, region: str) -> int:
        return len(cloudwatch_backends[self.account_id][region].metric_data)
