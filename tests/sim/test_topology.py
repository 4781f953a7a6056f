"""Pure checks of lab topologies: what clients create is bounded, bad topologies are named,
and a downloaded lab imports back as the same lab."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import yaml

from cmltui.sim.cml_labs import MAX_LABS, LabBook, LabError, SimUser
from cmltui.sim.cml_topology import (
    MAX_NODES,
    TopologyError,
    export_yaml,
    import_topology,
    parse_topology_text,
    seeded_topology,
)

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = SimUser("9f1c6c1e-2b7a-4c1e-9a55-0c6f3f3a2b10", "admin", "Admin", True, WHEN)


def test_what_clients_create_is_bounded() -> None:
    when, user = WHEN, USER
    book = LabBook("t", ["c1"])
    for _ in range(MAX_LABS):
        book.create_lab(user, when, "x", "", "")
    with pytest.raises(LabError, match="delete some first"):
        book.create_lab(user, when, "one too many", "", "")
    too_many = {
        "lab": {"title": "big", "version": "0.3.0"},
        "nodes": [
            {"id": f"n{k}", "label": f"n{k}", "node_definition": "alpine", "x": 0, "y": 0}
            for k in range(MAX_NODES + 1)
        ],
        "links": [],
    }
    with pytest.raises(TopologyError, match="nodes: more than"):
        import_topology(too_many, book.api_rng, ["c1"])
    long_label = {**too_many, "nodes": [{**too_many["nodes"][0], "label": "x" * 129}]}
    with pytest.raises(TopologyError, match=r"nodes\[0\]\.label"):
        import_topology(long_label, book.api_rng, ["c1"])


def _shape(text: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
    """Labels, definitions and interface counts of nodes; link ends as node labels."""
    data = yaml.safe_load(text)
    labels = {n["id"]: n["label"] for n in data["nodes"]}
    nodes = [(n["label"], n["node_definition"], len(n["interfaces"])) for n in data["nodes"]]
    links = sorted((labels[lk["n1"]], labels[lk["n2"]]) for lk in data["links"])
    return nodes, links


def test_a_downloaded_lab_imports_back_as_the_same_lab() -> None:
    topo = seeded_topology(random.Random(7), 9, 12, ["c1", "c2"])
    header = {"title": "Round trip", "description": "d", "notes": "n"}
    text = export_yaml(header, topo)
    again_header, again = import_topology(parse_topology_text(text), random.Random(8), ["c1"])
    assert again_header == header
    assert _shape(export_yaml(again_header, again)) == _shape(text)
    assert len(again.links) == 12 and len(again.nodes) == 9
    # Fresh ids: importing twice never shares an id with the original.
    assert not {n.id for n in topo.nodes} & {n.id for n in again.nodes}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("- a list\n", "body"),
        ("lab: {title: x, version: 0.3.0}\nnodes: {}\nlinks: []\n", "nodes and links"),
        (
            "lab: {title: x}\nnodes: [{id: a, label: a, node_definition: iosv, x: 99999, y: 0}]"
            "\nlinks: []\n",
            "nodes[0].x",
        ),
        (
            "lab: {title: x}\nnodes: [{id: a, label: a, node_definition: iosv, x: 0, y: 0},"
            " {id: a, label: b, node_definition: iosv, x: 0, y: 0}]\nlinks: []\n",
            "nodes[1].id",
        ),
        (
            "lab: {title: x}\nnodes: [{id: a, label: a, node_definition: iosv, x: 0, y: 0,"
            " interfaces: [{id: i, type: physical}]}]\n"
            "links: [{id: l, n1: a, i1: i, n2: a, i2: i}]\n",
            "links[0].i2",
        ),
    ],
)
def test_bad_topologies_name_the_field(text: str, named: str) -> None:
    with pytest.raises(TopologyError) as caught:
        import_topology(parse_topology_text(text), random.Random(1), ["c1"])
    assert str(caught.value).startswith(named)
