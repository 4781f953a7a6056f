"""Nodes, interfaces and links of simulated labs, the node definitions they use, and topology
import/export in CML's YAML format.

A node's state is derived from the clock: a start stamps when it is queued, when its VM starts
and when it has booted, so reading a state never needs the simulation to have been stepped.
Everything read from a client (an imported topology) is bounded and checked here; a bad
topology raises `TopologyError` with a message naming the field.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

RUNNING_STATES = ("QUEUED", "STARTED", "BOOTED")
TOPOLOGY_VERSION = "0.3.0"
QUEUE_STEP_S = 1.0  # the launch queue starts one node per simulated second
MAX_NODES = 300  # the node count a CML Enterprise licence allows
MAX_LINKS = 1000
MAX_INTERFACES = 64
MAX_LABEL = 128
MAX_TITLE = 64
MAX_TEXT = 4096
MAX_CONFIG = 64 * 1024


class TopologyError(ValueError):
    """A topology a client sent cannot be imported; the message names the field."""


@dataclass(frozen=True)
class NodeDef:
    """The few facts of a CML node definition that the simulator needs."""

    id: str
    label: str
    nature: str  # DeviceNature
    icon: str  # NodeDefIcons
    driver: str  # LinuxNativeSimulationDriverTypes
    domain: str  # LibvirtDomainDrivers
    config_driver: str | None
    interfaces: tuple[str, ...]
    boot_s: float
    ram: int | None  # MiB
    cpus: int | None
    image: str | None
    prefix: str

    def interface_label(self, slot: int) -> str:
        if slot < len(self.interfaces):
            return self.interfaces[slot]
        return f"{self.interfaces[-1].rstrip('0123456789')}{slot}"

    def body(self) -> dict[str, Any]:
        """A NodeDefinitionResponse (CML 2.9 OpenAPI)."""
        return {
            "id": self.id,
            "general": {"nature": self.nature, "description": f"{self.label} (simulated)"},
            "device": {
                "interfaces": {
                    "serial_ports": 1 if self.domain == "kvm" else 0,
                    "physical": list(self.interfaces),
                    "has_loopback_zero": self.nature in ("router", "switch"),
                    "default_count": min(4, len(self.interfaces)),
                }
            },
            "ui": {
                "label_prefix": self.prefix,
                "icon": self.icon,
                "label": self.label,
                "visible": True,
                "description": f"{self.label} (simulated)",
            },
            "sim": {
                "linux_native": {
                    "libvirt_domain_driver": self.domain,
                    "driver": self.driver,
                    **({"ram": self.ram} if self.ram else {}),
                    **({"cpus": self.cpus} if self.cpus else {}),
                }
            },
            "boot": {"timeout": int(self.boot_s * 60), "completed": ["READY"]},
            "configuration": {"generator": {"driver": self.config_driver}},
            "inherited": {
                "image": {"ram": True, "cpus": True, "data_volume": True, "boot_disk_size": True},
                "node": {"ram": True, "cpus": True, "data_volume": True, "boot_disk_size": True},
            },
            "schema_version": "0.0.1",
        }


def _gig(prefix: str, count: int, start: int = 0) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(start, start + count))


NODE_DEFINITIONS: dict[str, NodeDef] = {
    d.id: d
    for d in (
        NodeDef(
            "iosv",
            "IOSv",
            "router",
            "router",
            "iosv",
            "kvm",
            "iosv",
            _gig("GigabitEthernet0/", 8),
            8.0,
            512,
            1,
            "iosv-159-3-m9",
            "iosv-",
        ),
        NodeDef(
            "iosvl2",
            "IOSvL2",
            "switch",
            "switch",
            "iosvl2",
            "kvm",
            "iosvl2",
            _gig("GigabitEthernet0/", 16),
            9.0,
            768,
            1,
            "iosvl2-2020",
            "iosvl2-",
        ),
        NodeDef(
            "csr1000v",
            "CSR1000v",
            "router",
            "router",
            "csr1000v",
            "kvm",
            "csr1000v",
            _gig("GigabitEthernet", 8, 1),
            14.0,
            3072,
            1,
            "csr1000v-17-03-08a",
            "csr1000v-",
        ),
        NodeDef(
            "alpine",
            "Alpine",
            "server",
            "server",
            "alpine",
            "kvm",
            "alpine",
            _gig("eth", 8),
            3.0,
            512,
            1,
            "alpine-3-21-base",
            "alpine-",
        ),
        NodeDef(
            "ubuntu",
            "Ubuntu",
            "server",
            "server",
            "ubuntu",
            "kvm",
            "ubuntu",
            _gig("ens", 8, 2),
            6.0,
            2048,
            1,
            "ubuntu-24-04",
            "ubuntu-",
        ),
        NodeDef(
            "external_connector",
            "External Connector",
            "cloud",
            "cloud",
            "external_connector",
            "none",
            None,
            ("port",),
            1.0,
            None,
            None,
            None,
            "ext-conn-",
        ),
        NodeDef(
            "unmanaged_switch",
            "Unmanaged Switch",
            "switch",
            "switch",
            "unmanaged_switch",
            "none",
            None,
            _gig("port", 32),
            1.0,
            None,
            None,
            None,
            "unmanaged-switch-",
        ),
    )
}
# What seeded labs are made of (weights): mostly routers and switches, some hosts.
SEEDED_MIX = (("iosv", 5), ("iosvl2", 3), ("csr1000v", 2), ("alpine", 2), ("ubuntu", 1))


@dataclass
class SimInterface:
    id: str
    node_id: str
    label: str
    slot: int
    mac: str
    type: str = "physical"


@dataclass
class SimNode:
    id: str
    label: str
    definition: NodeDef
    x: int
    y: int
    compute_id: str
    interfaces: list[SimInterface] = field(default_factory=list)
    configuration: str | None = None
    tags: list[str] = field(default_factory=list)
    rest_state: str = "DEFINED_ON_CORE"  # DEFINED_ON_CORE or STOPPED while not running
    queued_at: datetime | None = None
    started_at: datetime | None = None
    booted_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.queued_at is None or self.started_at is None or self.booted_at is None:
            return self.rest_state
        if now < self.started_at:
            return "QUEUED"
        if now < self.booted_at:
            return "STARTED"
        return "BOOTED"

    def is_running(self) -> bool:
        return self.queued_at is not None

    def settled(self, now: datetime) -> bool:
        """CML's convergence: booted, or not running at all."""
        return self.state(now) not in ("QUEUED", "STARTED")


@dataclass
class SimLink:
    id: str
    label: str
    iface_a: SimInterface
    iface_b: SimInterface


@dataclass
class Topology:
    """A lab's nodes and links, with lookups by id."""

    nodes: list[SimNode] = field(default_factory=list)
    links: list[SimLink] = field(default_factory=list)

    def node(self, node_id: str) -> SimNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def link(self, link_id: str) -> SimLink | None:
        return next((lk for lk in self.links if lk.id == link_id), None)

    def interfaces(self) -> list[SimInterface]:
        return [i for n in self.nodes for i in n.interfaces]


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _mac(rng: random.Random) -> str:
    return "52:54:00:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def add_interface(node: SimNode, rng: random.Random) -> SimInterface:
    slot = len(node.interfaces)
    iface = SimInterface(
        new_uuid(rng), node.id, node.definition.interface_label(slot), slot, _mac(rng)
    )
    node.interfaces.append(iface)
    return iface


def _free_interface(node: SimNode, used: set[str], rng: random.Random) -> SimInterface:
    for iface in node.interfaces:
        if iface.id not in used:
            return iface
    return add_interface(node, rng)


def seeded_topology(
    rng: random.Random, node_count: int, link_count: int, computes: list[str]
) -> Topology:
    """A plausible lab of `node_count` nodes joined by `link_count` links (a tree plus extras)."""
    topo = Topology()
    defs = [NODE_DEFINITIONS[d] for d, _ in SEEDED_MIX]
    weights = [w for _, w in SEEDED_MIX]
    counters: dict[str, int] = {}
    for k in range(node_count):
        definition = rng.choices(defs, weights)[0]
        n = counters.get(definition.id, 0)
        counters[definition.id] = n + 1
        node = SimNode(
            new_uuid(rng),
            f"{definition.prefix}{n}",
            definition,
            x=(k % 6) * 160 - 400,
            y=(k // 6) * 120 - 200,
            compute_id=computes[k % len(computes)],
        )
        topo.nodes.append(node)
    used: set[str] = set()
    for k in range(min(link_count, MAX_LINKS)):
        if len(topo.nodes) < 2:
            break
        if k < len(topo.nodes) - 1:
            a, b = topo.nodes[k + 1], topo.nodes[rng.randrange(k + 1)]
        else:
            a, b = rng.sample(topo.nodes, 2)
        if len(a.interfaces) >= MAX_INTERFACES or len(b.interfaces) >= MAX_INTERFACES:
            continue
        ia, ib = _free_interface(a, used, rng), _free_interface(b, used, rng)
        used.update((ia.id, ib.id))
        topo.links.append(SimLink(new_uuid(rng), f"{a.label}-{b.label}", ia, ib))
    return topo


# ----- import ---------------------------------------------------------------------------------


def _text(value: Any, where: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise TopologyError(f"{where}: a non-empty string is required")
    if len(value) > limit:
        raise TopologyError(f"{where}: longer than {limit} characters")
    return value


def _int(value: Any, where: str, low: int, high: int, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TopologyError(f"{where}: an integer from {low} to {high} is required")
    return value


def parse_topology_text(raw: str) -> dict[str, Any]:
    """YAML (or JSON, which is YAML) text to a mapping; bounded by the server's body limit."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise TopologyError(f"body: not valid YAML or JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise TopologyError("body: a topology object is required")
    return data


def import_topology(
    data: dict[str, Any], rng: random.Random, computes: list[str]
) -> tuple[dict[str, str], Topology]:
    """Check a Topology body and build it with fresh UUIDs. Returns (lab header, topology)."""
    lab = data.get("lab")
    if not isinstance(lab, dict):
        raise TopologyError("lab: an object is required")
    header = {
        "title": _text(lab.get("title"), "lab.title", MAX_TITLE),
        "description": _text(lab.get("description"), "lab.description", MAX_TEXT),
        "notes": _text(lab.get("notes"), "lab.notes", 32768),
    }
    nodes, links = data.get("nodes"), data.get("links")
    if not isinstance(nodes, list) or not isinstance(links, list):
        raise TopologyError("nodes and links: lists are required")
    if len(nodes) > MAX_NODES:
        raise TopologyError(f"nodes: more than {MAX_NODES}")
    if len(links) > MAX_LINKS:
        raise TopologyError(f"links: more than {MAX_LINKS}")
    topo = Topology()
    node_ids: dict[str, SimNode] = {}
    iface_ids: dict[tuple[str, str], SimInterface] = {}
    for k, raw in enumerate(nodes):
        where = f"nodes[{k}]"
        if not isinstance(raw, dict):
            raise TopologyError(f"{where}: an object is required")
        ref = _text(raw.get("id"), f"{where}.id", 64, required=True)
        if ref in node_ids:
            raise TopologyError(f"{where}.id: {ref!r} is used twice")
        def_id = _text(raw.get("node_definition"), f"{where}.node_definition", 250, required=True)
        definition = NODE_DEFINITIONS.get(def_id)
        if definition is None:
            raise TopologyError(f"{where}.node_definition: unknown node definition {def_id!r}")
        config = raw.get("configuration")
        if isinstance(config, list):
            config = "\n".join(
                str(part.get("content") or "") for part in config if isinstance(part, dict)
            )
        node = SimNode(
            new_uuid(rng),
            _text(raw.get("label"), f"{where}.label", MAX_LABEL, required=True),
            definition,
            x=_int(raw.get("x"), f"{where}.x", -15000, 15000),
            y=_int(raw.get("y"), f"{where}.y", -15000, 15000),
            compute_id=computes[k % len(computes)],
            configuration=_text(config, f"{where}.configuration", MAX_CONFIG) or None,
        )
        ifaces = raw.get("interfaces") or []
        if not isinstance(ifaces, list) or len(ifaces) > MAX_INTERFACES:
            raise TopologyError(f"{where}.interfaces: a list of at most {MAX_INTERFACES}")
        for j, iraw in enumerate(ifaces):
            iwhere = f"{where}.interfaces[{j}]"
            if not isinstance(iraw, dict):
                raise TopologyError(f"{iwhere}: an object is required")
            iref = _text(iraw.get("id"), f"{iwhere}.id", 64, required=True)
            kind = iraw.get("type", "physical")
            if kind not in ("physical", "loopback"):
                raise TopologyError(f"{iwhere}.type: physical or loopback")
            slot = _int(iraw.get("slot"), f"{iwhere}.slot", 0, 128, default=j)
            iface = SimInterface(
                new_uuid(rng),
                node.id,
                _text(iraw.get("label"), f"{iwhere}.label", MAX_LABEL)
                or definition.interface_label(slot),
                slot,
                _mac(rng),
                kind,
            )
            node.interfaces.append(iface)
            iface_ids[(ref, iref)] = iface
        node_ids[ref] = node
        topo.nodes.append(node)
    used: set[str] = set()
    by_uuid = node_ids_by_uuid(topo)
    for k, raw in enumerate(links):
        where = f"links[{k}]"
        if not isinstance(raw, dict):
            raise TopologyError(f"{where}: an object is required")
        ends = []
        for n_key, i_key in (("n1", "i1"), ("n2", "i2")):
            n_ref = _text(raw.get(n_key), f"{where}.{n_key}", 64, required=True)
            i_ref = _text(raw.get(i_key), f"{where}.{i_key}", 64, required=True)
            iface = iface_ids.get((n_ref, i_ref))
            if iface is None:
                raise TopologyError(f"{where}.{i_key}: no interface {i_ref!r} on node {n_ref!r}")
            taken = iface.id in used or any(iface is end for end in ends)
            if taken or iface.type != "physical":
                raise TopologyError(f"{where}.{i_key}: interface {i_ref!r} cannot take this link")
            ends.append(iface)
        used.update(i.id for i in ends)
        label = _text(raw.get("label"), f"{where}.label", MAX_LABEL)
        a, b = (by_uuid[i.node_id] for i in ends)
        topo.links.append(SimLink(new_uuid(rng), label or f"{a.label}-{b.label}", *ends))
    return header, topo


def node_ids_by_uuid(topo: Topology) -> dict[str, SimNode]:
    return {n.id: n for n in topo.nodes}


def create_node(
    topo: Topology,
    body: dict[str, Any],
    rng: random.Random,
    computes: list[str],
    populate_interfaces: bool,
) -> SimNode:
    """A node from a NodeCreate body, with the definition's default interfaces if asked."""
    if len(topo.nodes) >= MAX_NODES:
        raise TopologyError(f"nodes: more than {MAX_NODES}")
    def_id = _text(body.get("node_definition"), "node_definition", 250, required=True)
    definition = NODE_DEFINITIONS.get(def_id)
    if definition is None:
        raise TopologyError(f"node_definition: unknown node definition {def_id!r}")
    config = body.get("configuration")
    if isinstance(config, list):
        config = "\n".join(
            str(part.get("content") or "") for part in config if isinstance(part, dict)
        )
    tags = body.get("tags") or []
    if not isinstance(tags, list) or len(tags) > 64:
        raise TopologyError("tags: a list of at most 64 tags is required")
    node = SimNode(
        new_uuid(rng),
        _text(body.get("label"), "label", MAX_LABEL, required=True),
        definition,
        x=_int(body.get("x"), "x", -15000, 15000),
        y=_int(body.get("y"), "y", -15000, 15000),
        compute_id=computes[len(topo.nodes) % len(computes)],
        configuration=_text(config, "configuration", MAX_CONFIG) or None,
        tags=[_text(t, "tags[]", 64, required=True) for t in tags],
    )
    if populate_interfaces:
        for _ in range(min(4, len(definition.interfaces))):
            add_interface(node, rng)
    topo.nodes.append(node)
    return node


def create_interfaces(node: SimNode, slot: Any, rng: random.Random) -> list[SimInterface]:
    """InterfaceCreate: the next interface, or every missing one up to and including `slot`."""
    wanted = len(node.interfaces) if slot is None else _int(slot, "slot", 0, MAX_INTERFACES - 1)
    if wanted >= MAX_INTERFACES:
        raise TopologyError(f"slot: a node has at most {MAX_INTERFACES} interfaces")
    made = [add_interface(node, rng) for _ in range(len(node.interfaces), wanted + 1)]
    return made or [next(i for i in node.interfaces if i.slot == wanted)]


def create_link(topo: Topology, src: Any, dst: Any, rng: random.Random) -> SimLink:
    """LinkCreate: join two free physical interfaces of this lab."""
    if len(topo.links) >= MAX_LINKS:
        raise TopologyError(f"links: more than {MAX_LINKS}")
    by_id = {i.id: i for i in topo.interfaces()}
    used = {i.id for lk in topo.links for i in (lk.iface_a, lk.iface_b)}
    ends = []
    for key, value in (("src_int", src), ("dst_int", dst)):
        iface = by_id.get(value) if isinstance(value, str) else None
        if iface is None:
            raise TopologyError(f"{key}: no interface {str(value)[:64]!r} in this lab")
        if iface.id in used or iface.type != "physical":
            raise TopologyError(f"{key}: interface {iface.label!r} cannot take a link")
        ends.append(iface)
    if ends[0].id == ends[1].id:
        raise TopologyError("dst_int: a link needs two different interfaces")
    nodes = node_ids_by_uuid(topo)
    a, b = nodes[ends[0].node_id], nodes[ends[1].node_id]
    link = SimLink(
        new_uuid(rng), f"{a.label}-{ends[0].label}<->{b.label}-{ends[1].label}"[:128], *ends
    )
    topo.links.append(link)
    return link


def interface_body(iface: SimInterface, lab_id: str, state: str, connected: bool) -> dict[str, Any]:
    """An InterfaceResponse (CML 2.9 OpenAPI)."""
    return {
        "id": iface.id,
        "lab_id": lab_id,
        "node": iface.node_id,
        "label": iface.label,
        "slot": iface.slot,
        "type": iface.type,
        "mac_address": iface.mac,
        "is_connected": connected,
        "state": state,
    }


# ----- export ---------------------------------------------------------------------------------


def export_topology(header: dict[str, str], topo: Topology) -> dict[str, Any]:
    """The lab as a Topology body, with CML's short export ids (n0, i0, l0)."""
    node_ref = {n.id: f"n{k}" for k, n in enumerate(topo.nodes)}
    iface_ref: dict[str, str] = {}
    nodes = []
    for node in topo.nodes:
        interfaces = []
        for iface in node.interfaces:
            iface_ref[iface.id] = f"i{len(iface_ref)}"
            interfaces.append(
                {
                    "id": iface_ref[iface.id],
                    "label": iface.label,
                    "slot": iface.slot,
                    "type": iface.type,
                }
            )
        body: dict[str, Any] = {
            "id": node_ref[node.id],
            "label": node.label,
            "node_definition": node.definition.id,
            "x": node.x,
            "y": node.y,
            "configuration": node.configuration or "",
            "image_definition": node.definition.image,
            "tags": list(node.tags),
            "interfaces": interfaces,
        }
        nodes.append(body)
    links = [
        {
            "id": f"l{k}",
            "i1": iface_ref[lk.iface_a.id],
            "n1": node_ref[lk.iface_a.node_id],
            "i2": iface_ref[lk.iface_b.id],
            "n2": node_ref[lk.iface_b.node_id],
            "label": lk.label,
        }
        for k, lk in enumerate(topo.links)
    ]
    return {
        "lab": {
            "title": header["title"],
            "description": header["description"],
            "notes": header["notes"],
            "version": TOPOLOGY_VERSION,
        },
        "nodes": nodes,
        "links": links,
        "annotations": [],
        "smart_annotations": [],
    }


def export_yaml(header: dict[str, str], topo: Topology) -> str:
    return yaml.safe_dump(export_topology(header, topo), sort_keys=False)


# ----- response bodies ------------------------------------------------------------------------


def _node_fields(node: SimNode) -> dict[str, Any]:
    """What a Node and a NodeTopology both say of a node (CML 2.9 OpenAPI)."""
    d = node.definition
    return {
        "id": node.id,
        "label": node.label,
        "node_definition": d.id,
        "image_definition": d.image,
        "x": node.x,
        "y": node.y,
        "ram": d.ram,
        "cpus": d.cpus,
        "cpu_limit": 100 if d.cpus else None,
        "data_volume": 0 if d.domain == "kvm" else None,
        "boot_disk_size": 0 if d.domain == "kvm" else None,
        "hide_links": False,
        "tags": list(node.tags),
        "parameters": {},
        "configuration": node.configuration,
    }


def node_body(node: SimNode, lab_id: str, state: str) -> dict[str, Any]:
    """A Node (CML 2.9 OpenAPI)."""
    running = state in RUNNING_STATES
    return {
        **_node_fields(node),
        "lab_id": lab_id,
        "state": state,
        "boot_progress": "Booted" if state == "BOOTED" else "Booting" if running else "Not running",
        "compute_id": node.compute_id if running else None,
        "pinned_compute_id": None,
        "resource_pool": None,
        "iol_app_id": None,
    }


def node_topology_body(node: SimNode) -> dict[str, Any]:
    """A NodeTopology: what GET /labs/{id}/topology lists."""
    return {
        **_node_fields(node),
        "interfaces": [
            {
                "id": i.id,
                "node": node.id,
                "label": i.label,
                "slot": i.slot,
                "type": i.type,
                "mac_address": i.mac,
            }
            for i in node.interfaces
        ],
    }


def link_body(link: SimLink, lab_id: str, state: str) -> dict[str, Any]:
    """A Link / LinkWithConditionConfig (CML 2.9 OpenAPI)."""
    return {
        "id": link.id,
        "lab_id": lab_id,
        "label": link.label,
        "state": state,
        "interface_a": link.iface_a.id,
        "interface_b": link.iface_b.id,
        "node_a": link.iface_a.node_id,
        "node_b": link.iface_b.node_id,
        "link_capture_key": "",
    }
