"""Labs of a simulated controller and what clients do with them: create, import, start, stop,
wipe, delete, per-node start and stop, with the telemetry events a real CML records.

Seeded labs get their nodes and links only when a client first looks at them (deterministic per
lab), so a 1000-worker fleet starts as fast as before. Events dated in the future (a node that
boots in 8 s) wait in `pending` until the clock reaches them.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.sim.cml_topology import (
    QUEUE_STEP_S,
    SimNode,
    Topology,
    TopologyError,
    import_topology,
    new_uuid,
    seeded_topology,
)

HISTORY_CAP = 200
PENDING_CAP = 4000
MAX_LABS = 500  # per controller: what clients can create is bounded


@dataclass
class SimUser:
    id: str
    username: str
    fullname: str
    admin: bool
    created: datetime


@dataclass
class SimLab:
    id: str
    title: str
    owner: SimUser
    node_count: int  # seeded count, until the topology is built
    link_count: int
    state: str  # stored state, until the topology is built
    created: datetime
    modified: datetime
    description: str = ""
    notes: str = ""
    topology: Topology | None = None


@dataclass
class SimEvent:
    category: str
    timestamp: datetime
    data: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "timestamp": self.timestamp.isoformat(),
            "data": self.data,
        }


class LabError(Exception):
    """A lab operation CML would refuse; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class LabBook:
    """The labs and the telemetry history of one controller."""

    seed_key: str
    compute_ids: list[str]
    labs: list[SimLab] = field(default_factory=list)
    events: deque[SimEvent] = field(default_factory=lambda: deque(maxlen=HISTORY_CAP))
    pending: list[SimEvent] = field(default_factory=list)
    _api_rng: random.Random | None = None

    @property
    def api_rng(self) -> random.Random:
        """Ids for what clients create: deterministic for the same sequence of calls."""
        if self._api_rng is None:
            self._api_rng = random.Random(f"cmltui-api:{self.seed_key}")
        return self._api_rng

    # ----- reading ----------------------------------------------------------------------------

    def lab(self, lab_id: str) -> SimLab | None:
        return next((lab for lab in self.labs if lab.id == lab_id), None)

    def topology(self, lab: SimLab) -> Topology:
        """The lab's nodes and links, built on first use for seeded labs."""
        if lab.topology is None:
            rng = random.Random(f"cmltui-lab:{self.seed_key}:{lab.id}")
            topo = seeded_topology(rng, lab.node_count, lab.link_count, self.compute_ids)
            for node in topo.nodes:
                if lab.state == "STARTED":
                    node.queued_at = node.started_at = node.booted_at = lab.modified
                else:
                    node.rest_state = lab.state
            lab.topology = topo
        return lab.topology

    def counts(self, lab: SimLab) -> tuple[int, int]:
        if lab.topology is None:
            return lab.node_count, lab.link_count
        return len(lab.topology.nodes), len(lab.topology.links)

    def lab_state(self, lab: SimLab) -> str:
        topo = lab.topology
        if topo is None or not topo.nodes:
            return lab.state
        if any(n.is_running() for n in topo.nodes):
            return "STARTED"
        if any(n.rest_state == "STOPPED" for n in topo.nodes):
            return "STOPPED"
        return "DEFINED_ON_CORE"

    def converged(self, lab: SimLab, now: datetime) -> bool:
        return all(n.settled(now) for n in self.topology(lab).nodes)

    def running_nodes(self, now: datetime) -> int:
        """Nodes whose VM runs (started or booted)."""
        total = 0
        for lab in self.labs:
            if lab.topology is None:
                total += lab.node_count if lab.state == "STARTED" else 0
            else:
                total += sum(n.state(now) in ("STARTED", "BOOTED") for n in lab.topology.nodes)
        return total

    def total_nodes(self) -> int:
        return sum(self.counts(lab)[0] for lab in self.labs)

    # ----- events -----------------------------------------------------------------------------

    def record(self, event: SimEvent, now: datetime) -> None:
        self.release(now)
        if event.timestamp <= now:
            self.events.append(event)
        elif len(self.pending) < PENDING_CAP:
            self.pending.append(event)

    def release(self, now: datetime) -> None:
        """Move the pending events that are now due into the history, oldest first."""
        if not self.pending:
            return
        due = sorted((e for e in self.pending if e.timestamp <= now), key=lambda e: e.timestamp)
        if due:
            self.pending = [e for e in self.pending if e.timestamp > now]
            self.events.extend(due)

    def _drop_pending(self, node_ids: set[str]) -> None:
        self.pending = [e for e in self.pending if e.data.get("node_id") not in node_ids]

    @staticmethod
    def _node_data(lab: SimLab, node: SimNode, user: SimUser) -> dict[str, Any]:
        return {
            "lab_id": lab.id,
            "node_id": node.id,
            "node_definition": node.definition.id,
            "user_id": user.id,
        }

    # ----- operations -------------------------------------------------------------------------

    def create_lab(
        self, user: SimUser, now: datetime, title: str, description: str, notes: str
    ) -> SimLab:
        if len(self.labs) >= MAX_LABS:
            raise LabError(400, f"This controller holds {MAX_LABS} labs: delete some first.")
        lab = SimLab(
            id=new_uuid(self.api_rng),
            title=title or f"Lab at {now:%a %H:%M %p}",
            owner=user,
            node_count=0,
            link_count=0,
            state="DEFINED_ON_CORE",
            created=now,
            modified=now,
            description=description,
            notes=notes,
            topology=Topology(),
        )
        self.labs.append(lab)
        return lab

    def import_lab(
        self, user: SimUser, now: datetime, data: dict[str, Any], title: str | None
    ) -> SimLab:
        header, topo = import_topology(data, self.api_rng, self.compute_ids)
        lab = self.create_lab(
            user, now, title or header["title"], header["description"], header["notes"]
        )
        lab.topology = topo
        self.record(SimEvent("import_lab", now, {"lab_id": lab.id, "user_id": user.id}), now)
        return lab

    def delete_lab(self, lab: SimLab) -> None:
        if self.lab_state(lab) != "DEFINED_ON_CORE":
            raise LabError(400, "Lab is not wiped: stop and wipe it before deleting it.")
        self.labs.remove(lab)

    def start_nodes(self, lab: SimLab, nodes: list[SimNode], user: SimUser, now: datetime) -> None:
        """Queue the nodes that are not running; the launch queue starts one per second."""
        starting = [n for n in nodes if not n.is_running()]
        for k, node in enumerate(starting):
            node.queued_at = now
            node.started_at = now + timedelta(seconds=QUEUE_STEP_S * (k + 1))
            node.booted_at = node.started_at + timedelta(seconds=node.definition.boot_s)
            data = self._node_data(lab, node, user)
            self.record(SimEvent("queue_node", now, dict(data)), now)
            self.record(SimEvent("start_node", node.started_at, dict(data)), now)
            self.record(SimEvent("boot_node", node.booted_at, data), now)
        if starting:
            lab.modified = now

    def stop_nodes(self, lab: SimLab, nodes: list[SimNode], user: SimUser, now: datetime) -> None:
        stopping = [n for n in nodes if n.is_running()]
        self.release(now)  # what already happened stays in the history
        self._drop_pending({n.id for n in stopping})
        for node in stopping:
            node.queued_at = node.started_at = node.booted_at = None
            node.rest_state = "STOPPED"
            self.record(SimEvent("stop_node", now, self._node_data(lab, node, user)), now)
        if stopping:
            lab.modified = now

    def start_lab(self, lab: SimLab, user: SimUser, now: datetime) -> None:
        topo = self.topology(lab)
        self.record(SimEvent("start_lab", now, {"lab_id": lab.id, "user_id": user.id}), now)
        self.start_nodes(lab, topo.nodes, user, now)
        if not topo.nodes:
            lab.state, lab.modified = "STARTED", now

    def stop_lab(self, lab: SimLab, user: SimUser, now: datetime) -> None:
        topo = self.topology(lab)
        self.stop_nodes(lab, topo.nodes, user, now)
        self.record(SimEvent("stop_lab", now, {"lab_id": lab.id, "user_id": user.id}), now)
        if not topo.nodes:
            lab.state, lab.modified = "STOPPED", now

    def wipe_lab(self, lab: SimLab, user: SimUser, now: datetime) -> None:
        topo = self.topology(lab)
        if any(n.is_running() for n in topo.nodes):
            raise LabError(400, "Lab is running: stop it before wiping it.")
        for node in topo.nodes:
            if node.rest_state != "DEFINED_ON_CORE":
                node.rest_state = "DEFINED_ON_CORE"
                self.record(SimEvent("wipe_node", now, self._node_data(lab, node, user)), now)
        lab.state, lab.modified = "DEFINED_ON_CORE", now

    def node(self, lab: SimLab, node_id: str) -> SimNode:
        node = self.topology(lab).node(node_id)
        if node is None:
            raise LabError(404, f"Node not found: {node_id}")
        return node


__all__ = ["LabBook", "LabError", "SimEvent", "SimLab", "SimUser", "TopologyError"]
