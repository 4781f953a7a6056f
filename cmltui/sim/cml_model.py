"""What one simulated CML controller knows: computes, labs, users, stats and telemetry.

Pure and deterministic. Time is cut into one-minute slots counted from the fleet's start `t0`;
each slot's events come from a random generator seeded by (seed, worker, slot), so the state at
a given clock time does not depend on how often `advance` was called. Response bodies follow
the CML 2.9 OpenAPI schemas.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.sim.cml_labs import LabBook, SimEvent, SimLab, SimUser
from cmltui.sim.cml_licence import SimLicence
from cmltui.sim.cml_topology import (
    NODE_DEFINITIONS,
    RUNNING_STATES,
    link_body,
    node_body,
    node_topology_body,
)
from cmltui.sim.fleet import INSTANCE_TYPES, SimWorkerSpec

SLOT_S = 60.0
CPU_PER_NODE = 1.5  # percent of the controller's CPU per running node, beyond the seeded load
SERVICE_ACCOUNT_ID = "00000000-0000-4000-a000-000000000000"
SERVICE_ACCOUNT_NAME = "cml_system"
ADMIN_USERNAME = "admin"
ACTIVITY_CATEGORIES = ("start_node", "stop_node", "boot_node", "queue_node", "user_activity")
GIB = 1024**3

_TITLES = (
    "CCNA lab",
    "OSPF area design",
    "BGP peering",
    "MPLS L3VPN",
    "EVPN fabric",
    "Firewall HA",
    "SD-WAN pilot",
    "QoS tests",
    "Multicast",
    "IPv6 migration",
    "NetDevOps CI",
    "DMVPN hub",
    "Segment routing",
    "Campus core",
    "ISE posture",
    "WAN edge",
    "Data center spine",
    "VXLAN lab",
    "Troubleshooting 1",
    "Ansible demo",
)
_PEOPLE = (
    ("alice", "Alice Ng"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Diaz"),
    ("dave", "Dave Kim"),
    ("erin", "Erin Walsh"),
)


def iso(value: datetime) -> str:
    """ISO-8601 with an explicit UTC offset, as the OpenAPI `date-time` format wants."""
    return value.isoformat()


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class SimCompute:
    id: str
    hostname: str
    is_controller: bool
    cpus: int
    memory: int  # bytes
    disk: int  # bytes
    valid: bool = True


@dataclass
class CmlModel:
    """The simulated controller of one worker."""

    spec: SimWorkerSpec
    seed: int
    t0: datetime
    computes: list[SimCompute] = field(default_factory=list)
    users: list[SimUser] = field(default_factory=list)
    book: LabBook = field(init=False)
    product_uuid: str = ""
    notice_id: str = ""
    next_slot: int = 0
    baseline_running: int = 0
    licence: SimLicence = field(init=False)

    @property
    def license_expires(self) -> str | None:
        """When set, served as `authorization.expires` as it is: a broken or hostile CML's text."""
        return self.licence.expires_text

    @license_expires.setter
    def license_expires(self, text: str | None) -> None:
        self.licence.expires_text = text

    @property
    def labs(self) -> list[SimLab]:
        return self.book.labs

    @labs.setter
    def labs(self, labs: list[SimLab]) -> None:
        self.book.labs = labs

    @property
    def events(self) -> Any:
        return self.book.events

    def __post_init__(self) -> None:
        rng = random.Random(f"cmltui-cml:{self.seed}:{self.spec.index}")
        self.product_uuid = _uuid4(rng)
        self.licence = SimLicence(self.spec.license, self.t0)
        self.notice_id = _uuid4(random.Random(f"cmltui-notice:{self.seed}:{self.spec.index}"))
        cpus, mem_gib = INSTANCE_TYPES.get(self.spec.instance_type, (16, 64))
        n = self.spec.compute_count
        for i in range(n):
            self.computes.append(
                SimCompute(
                    id=_uuid4(rng),
                    hostname=f"{self.spec.name}-{'controller' if i == 0 else f'compute-{i}'}",
                    is_controller=i == 0,
                    cpus=cpus,
                    memory=mem_gib * GIB,
                    disk=(1000 if i == 0 else 500) * GIB,
                    valid=self.spec.health_valid or i != n - 1,
                )
            )
        self.book = LabBook(f"{self.seed}:{self.spec.index}", [c.id for c in self.computes])
        created = self.t0 - timedelta(seconds=self.spec.created_ago_s)
        self.users.append(
            SimUser(SERVICE_ACCOUNT_ID, SERVICE_ACCOUNT_NAME, "CML system", True, created)
        )
        self.users.append(SimUser(_uuid4(rng), ADMIN_USERNAME, "Administrator", True, created))
        for username, fullname in rng.sample(_PEOPLE, 3):
            self.users.append(
                SimUser(
                    _uuid4(rng),
                    username,
                    fullname,
                    False,
                    min(self.t0, created + timedelta(hours=rng.randint(1, 48))),
                )
            )
        people = self.users[1:]
        titles = rng.sample(_TITLES, min(self.spec.lab_count, len(_TITLES)))
        for i in range(self.spec.lab_count):
            title = titles[i % len(titles)] + (
                f" {i // len(titles) + 1}" if i >= len(titles) else ""
            )
            nodes = rng.randint(2, 24)
            # Between the instance's creation and t0: never in the future.
            lab_created = created + (self.t0 - created) * rng.uniform(0.05, 0.95)
            self.labs.append(
                SimLab(
                    id=_uuid4(rng),
                    title=title,
                    owner=people[0] if i == 0 else rng.choice(people),
                    node_count=nodes,
                    link_count=max(1, nodes - 1 + rng.randint(0, 4)),
                    state=self._initial_lab_state(rng, i),
                    created=lab_created,
                    modified=lab_created,
                    description=f"{title} (simulated)",
                )
            )
        self._seed_history(rng)
        self.baseline_running = self.running_nodes(self.t0)

    # ----- behaviour ---------------------------------------------------------------------------

    def _initial_lab_state(self, rng: random.Random, index: int) -> str:
        if self.spec.initial_state == "stopped":
            return "STOPPED" if index == 0 else "DEFINED_ON_CORE"
        if self.spec.role in ("busy", "labs", "degraded", "noagent", "eval"):
            if index == 0:
                return "STARTED"
            return rng.choice(("STARTED", "STARTED", "STOPPED", "DEFINED_ON_CORE"))
        if self.spec.role in ("idle", "snooze", "nearpause"):
            # Forgotten running labs are exactly what burns money on an idle worker.
            return "STARTED" if index == 0 else "STOPPED"
        return rng.choice(("STARTED", "STOPPED", "DEFINED_ON_CORE"))

    def _user_event(self, rng: random.Random, when: datetime) -> SimEvent:
        user = rng.choice(self.users[1:])
        lab = rng.choice(self.labs) if self.labs else None
        category = rng.choice(ACTIVITY_CATEGORIES)
        data: dict[str, Any] = {"user_id": user.id}
        if category != "user_activity" and lab is not None:
            data.update(lab_id=lab.id, node_id=_uuid4(rng))
        return SimEvent(category, when, data)

    def _service_event(self, when: datetime) -> SimEvent:
        return SimEvent("user_activity", when, {"user_id": SERVICE_ACCOUNT_ID})

    def _seed_history(self, rng: random.Random) -> None:
        """Events before t0, ending with the newest activity the role calls for."""
        newest = self.t0 - timedelta(seconds=self.spec.last_activity_ago_s)
        history = [
            self._user_event(rng, newest - timedelta(minutes=4 * k + rng.uniform(0, 3)))
            for k in range(1, 30)
        ]
        history.append(self._user_event(rng, newest))
        if self.labs:
            history.append(
                SimEvent(
                    "start_lab",
                    newest - timedelta(minutes=1),
                    {"lab_id": self.labs[0].id, "user_id": self.labs[0].owner.id},
                )
            )
        if self.spec.initial_state == "running":
            # The service account polls every 5 min; it never counts as activity.
            history += [
                self._service_event(self.t0 - timedelta(minutes=5 * k, seconds=7))
                for k in range(12)
            ]
        for event in sorted(history, key=lambda e: e.timestamp):
            self.events.append(event)

    def advance(self, now: datetime, running: bool) -> None:
        """Play every whole slot that ended by `now`; a stopped CML plays none of its events."""
        while self.t0 + timedelta(seconds=(self.next_slot + 1) * SLOT_S) <= now:
            if running:
                self._play_slot(self.next_slot)
            self.next_slot += 1
        if running:
            self.book.release(now)
            self.licence.settle(now)

    def _play_slot(self, slot: int) -> None:
        rng = random.Random(f"cmltui-slot:{self.seed}:{self.spec.index}:{slot}")
        start = self.t0 + timedelta(seconds=slot * SLOT_S)
        new: list[SimEvent] = []
        if rng.random() < self.spec.activity_rate:
            new.append(self._user_event(rng, start + timedelta(seconds=rng.uniform(0, 59))))
        toggle = rng.random() < self.spec.activity_rate * 0.15
        # Guaranteed movement for the demo and the tests: lab 0 of busy workers stops at
        # minute 4 and starts again at minute 9.
        scripted = self.spec.role in ("busy", "labs") and slot in (4, 9)
        if self.labs and (toggle or scripted):
            lab = self.labs[0] if scripted else rng.choice(self.labs)
            when = start + timedelta(seconds=rng.uniform(0, 59))
            new += self._toggle_lab(lab, when)
        if slot % 5 == 4:
            new.append(self._service_event(start + timedelta(seconds=7)))
        for event in sorted(new, key=lambda e: e.timestamp):
            self.events.append(event)

    def _toggle_lab(self, lab: SimLab, when: datetime) -> list[SimEvent]:
        if lab.topology is not None:
            # A client has looked at this lab's nodes: move them for real.
            if self.book.lab_state(lab) == "STARTED":
                self.book.stop_lab(lab, lab.owner, when)
            else:
                self.book.start_lab(lab, lab.owner, when)
            return []
        data = {"lab_id": lab.id, "user_id": lab.owner.id}
        lab.modified = when
        if lab.state == "STARTED":
            lab.state = "STOPPED"
            return [SimEvent("stop_node", when, dict(data)), SimEvent("stop_lab", when, data)]
        lab.state = "STARTED"
        return [SimEvent("start_lab", when, dict(data)), SimEvent("boot_node", when, dict(data))]

    # ----- stats -------------------------------------------------------------------------------

    def _wave(self, now: datetime, period_s: float, salt: float) -> float:
        t = (now - self.t0).total_seconds()
        return math.sin(2 * math.pi * t / period_s + self.spec.phase + salt)

    def cpu_percent(self, now: datetime) -> float:
        s = self.spec
        value = s.cpu_base + s.cpu_amp * self._wave(now, 900, 0) + 2.0 * self._wave(now, 170, 1)
        value += CPU_PER_NODE * (self.running_nodes(now) - self.baseline_running)
        return round(min(99.0, max(0.5, value)), 2)

    def memory_fraction(self, now: datetime) -> float:
        value = self.spec.mem_base + 4.0 * self._wave(now, 1300, 2) + 1.5 * self.running_nodes(now)
        return min(0.97, max(0.05, value / 100))

    def disk_fraction(self, now: datetime) -> float:
        hours = (now - self.t0).total_seconds() / 3600
        return min(0.95, (self.spec.disk_base + 0.2 * hours) / 100)

    def running_nodes(self, now: datetime) -> int:
        return self.book.running_nodes(now)

    # ----- response bodies (CML 2.9 OpenAPI shapes) --------------------------------------------

    def system_information(self, ready: bool = True) -> dict[str, Any]:
        return {
            "version": self.spec.cml_version,
            "ready": ready,
            "allow_ssh_pubkey_auth": True,
            "oui": "52:54:00:00:00:00",
        }

    def system_health(self) -> dict[str, Any]:
        computes = {}
        for c in self.computes:
            computes[c.id] = {
                "kvm_vmx_enabled": True,
                "enough_cpus": True,
                "lld_connected": c.valid,
                "lld_synced": c.valid,
                "libvirt": c.valid,
                "fabric": True,
                "device_mux": True,
                "refplat_images_available": True,
                "docker_shim": True,
                "valid": c.valid,
                "admission_state": "READY" if c.valid else "REGISTERED",
                "is_controller": c.is_controller,
                "hostname": c.hostname,
            }
        valid = all(c.valid for c in self.computes)
        return {
            "valid": valid,
            "computes": computes,
            "is_licensed": self.licence.is_licensed,
            "is_enterprise": self.licence.kind == "registered",
            "controller": {
                "core_connected": True,
                "nodes_loaded": True,
                "images_loaded": True,
                "valid": True,
            },
        }

    def system_stats(self, now: datetime) -> dict[str, Any]:
        cpu = self.cpu_percent(now)
        mem = self.memory_fraction(now)
        disk = self.disk_fraction(now)
        running = self.running_nodes(now)
        total = self.book.total_nodes()
        computes: dict[str, Any] = {}
        n = len(self.computes)
        for i, c in enumerate(self.computes):
            share = 1.0 if i == 0 else 0.9 - 0.1 * i
            c_cpu = round(min(100.0, cpu * share), 2)
            used_mem = int(c.memory * mem * share)
            used_disk = int(c.disk * disk * share)
            nodes_here = running // n + (1 if i < running % n else 0)
            computes[c.id] = {
                "hostname": c.hostname,
                "is_controller": c.is_controller,
                "stats": {
                    "cpu": {
                        "count": c.cpus,
                        "percent": c_cpu,
                        "model": "Intel(R) Xeon(R) Platinum 8252C CPU @ 3.80GHz",
                        "predicted": c.cpus * 100,
                        "load": [round(c.cpus * c_cpu / 100 * f, 2) for f in (1.0, 0.95, 0.9)],
                    },
                    "memory": {"used": used_mem, "free": c.memory - used_mem, "total": c.memory},
                    "disk": {"used": used_disk, "free": c.disk - used_disk, "total": c.disk},
                    "dominfo": {
                        "total_nodes": total // n,
                        "total_orphans": 0,
                        "running_nodes": nodes_here,
                        "running_orphans": 0,
                        "allocated_cpus": nodes_here,
                        "allocated_memory": nodes_here * 2048,
                    },
                },
            }

        def summed(kind: str) -> dict[str, int]:
            used = sum(v["stats"][kind]["used"] for v in computes.values())
            total_ = sum(v["stats"][kind]["total"] for v in computes.values())
            return {"used": used, "free": total_ - used, "total": total_}

        cpus = sum(c.cpus for c in self.computes)
        all_cpu = sum(
            v["stats"]["cpu"]["percent"] * v["stats"]["cpu"]["count"] for v in computes.values()
        ) / max(1, cpus)
        controller = self.computes[0]
        ctl_used = int(controller.disk * disk)
        return {
            "computes": computes,
            "all": {
                "cpu": {"count": cpus, "percent": round(all_cpu, 2)},
                "memory": summed("memory"),
                "disk": summed("disk"),
            },
            "controller": {
                "disk": {
                    "used": ctl_used,
                    "free": controller.disk - ctl_used,
                    "total": controller.disk,
                }
            },
        }

    def lab_ids(self, show_all: bool) -> list[str]:
        admin = self.users[1]
        return [lab.id for lab in self.labs if show_all or lab.owner is admin]

    def lab(self, lab_id: str) -> SimLab | None:
        return next((lab for lab in self.labs if lab.id == lab_id), None)

    def lab_body(self, lab: SimLab) -> dict[str, Any]:
        nodes, links = self.book.counts(lab)
        return {
            "id": lab.id,
            "created": iso(lab.created),
            "modified": iso(lab.modified),
            "lab_description": lab.description,
            "lab_notes": lab.notes,
            "lab_title": lab.title,
            "owner": lab.owner.id,
            "owner_username": lab.owner.username,
            "owner_fullname": lab.owner.fullname,
            "state": self.book.lab_state(lab),
            "node_count": nodes,
            "link_count": links,
            "groups": [],
            "effective_permissions": ["lab_admin", "lab_edit", "lab_exec", "lab_view"],
        }

    def lab_header(self, lab: SimLab) -> dict[str, str]:
        return {"title": lab.title, "description": lab.description, "notes": lab.notes}

    def topology_body(self, lab: SimLab) -> dict[str, Any]:
        """A TopologyResponse: the lab header, its nodes with interfaces, and its links."""
        topo = self.book.topology(lab)
        return {
            "lab": {
                "version": "0.3.0",
                **self.lab_header(lab),
                "owner": lab.owner.id,
            },
            "nodes": [node_topology_body(n) for n in topo.nodes],
            "links": [link_body(lk, lab.id, self.link_state(lab, lk)) for lk in topo.links],
            "annotations": [],
            "smart_annotations": [],
        }

    def link_state(self, lab: SimLab, link: Any) -> str:
        """STARTED while both ends run, else the rest state of its nodes."""
        topo = self.book.topology(lab)
        ends = [topo.node(link.iface_a.node_id), topo.node(link.iface_b.node_id)]
        if all(n is not None and n.is_running() for n in ends):
            return "STARTED"
        if any(n is not None and (n.is_running() or n.rest_state == "STOPPED") for n in ends):
            return "STOPPED"
        return "DEFINED_ON_CORE"

    def nodes_body(self, lab: SimLab, now: datetime, data: bool) -> list[Any]:
        topo = self.book.topology(lab)
        if not data:
            return [n.id for n in topo.nodes]
        return [node_body(n, lab.id, n.state(now)) for n in topo.nodes]

    def links_body(self, lab: SimLab, data: bool) -> list[Any]:
        topo = self.book.topology(lab)
        if not data:
            return [lk.id for lk in topo.links]
        return [link_body(lk, lab.id, self.link_state(lab, lk)) for lk in topo.links]

    def element_state_body(self, lab: SimLab, now: datetime) -> dict[str, Any]:
        """A LabElementStateResponse: every node, link and interface state."""
        topo = self.book.topology(lab)
        interfaces = {}
        for node in topo.nodes:
            state = node.state(now)
            iface_state = "STARTED" if state in RUNNING_STATES else node.rest_state
            for iface in node.interfaces:
                interfaces[iface.id] = iface_state
        return {
            "nodes": {n.id: n.state(now) for n in topo.nodes},
            "links": {lk.id: self.link_state(lab, lk) for lk in topo.links},
            "interfaces": interfaces,
        }

    def simulation_stats_body(self, lab: SimLab, now: datetime) -> dict[str, Any]:
        """A LabSimulationStatsResponse, shaped as the 2.9 OpenAPI documents it (lists)."""
        topo = self.book.topology(lab)
        return {
            "nodes": [node_body(n, lab.id, n.state(now)) for n in topo.nodes],
            "links": [link_body(lk, lab.id, self.link_state(lab, lk)) for lk in topo.links],
        }

    def compute_hosts_body(self, now: datetime) -> list[dict[str, Any]]:
        """ComputeHostBase objects, with node counts that follow the labs."""
        running = self.running_nodes(now)
        total = self.book.total_nodes()
        n = len(self.computes)
        out = []
        for i, c in enumerate(self.computes):
            out.append(
                {
                    "id": c.id,
                    "hostname": c.hostname,
                    "server_address": f"192.168.255.{10 + i}",
                    "is_simulator": True,
                    "is_connector": c.is_controller,
                    "admission_state": "READY" if c.valid else "REGISTERED",
                    "nodes": [],
                    "node_counts": {
                        "total_nodes": total // n + (1 if i < total % n else 0),
                        "total_orphans": 0,
                        "running_nodes": running // n + (1 if i < running % n else 0),
                        "running_orphans": 0,
                    },
                    "is_connected": c.valid,
                    "is_synced": c.valid,
                }
            )
        return out

    def notices_body(self) -> list[dict[str, Any]]:
        """SystemNotice objects: one notice, as operators often post. No `activated`: the
        OpenAPI allows it, but virl2-client 2.10 rejects notices that carry it."""
        return [
            {
                "id": self.notice_id,
                "level": "INFO",
                "label": "Simulated worker",
                "content": f"{self.spec.name} is part of a cmltui simulated fleet.",
                "enabled": True,
                "acknowledged": {},
                "groups": [],
            }
        ]

    @staticmethod
    def node_definitions_body() -> list[dict[str, Any]]:
        return [d.body() for d in NODE_DEFINITIONS.values()]

    def users_body(self) -> list[dict[str, Any]]:
        out = []
        for u in self.users:
            owned = [lab.id for lab in self.labs if lab.owner is u]
            out.append(
                {
                    "id": u.id,
                    "username": u.username,
                    "fullname": u.fullname,
                    "description": "",
                    "email": f"{u.username}@example.com",
                    "admin": u.admin,
                    "groups": [],
                    "associations": [],
                    "resource_pool": None,
                    "opt_in": False,
                    "tour_version": "2.9.0",
                    "created": iso(u.created),
                    "modified": iso(u.created),
                    "directory_dn": "",
                    "labs": owned,
                    "pubkey_info": None,
                }
            )
        return out

    def telemetry_body(self, now: datetime) -> list[dict[str, Any]]:
        self.book.release(now)
        return [event.body() for event in self.events]

    def licensing_body(self, now: datetime) -> dict[str, Any]:
        return self.licence.body(now, self.spec.name, self.product_uuid, self.running_nodes(now))
