"""Which workers and labs a command names: one each, or an error that lists the candidates."""

from __future__ import annotations

import pytest

from cmltui.cli.pick import LabPick, PickError, pick_labs, pick_workers
from cmltui.domain.worker import LabSummary
from tests.tui.tui_fleet import build_workers, snapshot


@pytest.fixture
def fleet():
    workers = build_workers()
    twin = workers[9]  # a second worker named like the first
    twin.name = workers[0].name
    twin.tags["Name"] = workers[0].name
    workers[1].cml.labs = [
        LabSummary("lab-a", "OSPF", "u1", "alice", "STARTED", 4),
        LabSummary("lab-b", "BGP", "u1", "alice", "STOPPED", 2),
        LabSummary("lab-c", "BGP", "u2", "bob", "STARTED", 3),
    ]
    return snapshot(workers).workers


def test_a_worker_by_name_instance_id_or_id_each_once_in_order(fleet):
    labs, idle = fleet[1], fleet[2]
    picked = pick_workers(fleet, [idle.name, labs.aws_instance_id, idle.id])
    assert [dto.id for dto in picked] == [idle.id, labs.id]


def test_an_ambiguous_name_lists_the_candidates_by_instance_id(fleet):
    first, twin = fleet[0], fleet[9]
    with pytest.raises(PickError) as error:
        pick_workers(fleet, [first.name])
    message = str(error.value)
    assert f"'{first.name}' names 2 workers" in message
    assert first.aws_instance_id in message and twin.aws_instance_id in message
    assert "name one by instance id" in message
    # and the instance id picks one of them
    assert pick_workers(fleet, [twin.aws_instance_id]) == [twin]


def test_an_unknown_name_is_an_error_shown_as_data(fleet):
    with pytest.raises(PickError, match=r"no worker 'ghost␛\[31m'"):
        pick_workers(fleet, ["ghost\x1b[31m"])


def test_labs_by_id_or_title_ambiguous_titles_listed(fleet):
    worker = fleet[1]
    assert pick_labs(worker, ["OSPF", "lab-b", "lab-a"]) == [
        LabPick("lab-a", "OSPF", "STARTED"),
        LabPick("lab-b", "BGP", "STOPPED"),
    ]
    with pytest.raises(PickError, match=r"'BGP' names 2 labs .*lab-b \(STOPPED\), lab-c"):
        pick_labs(worker, ["BGP"])
    with pytest.raises(PickError, match="has no lab 'nope'"):
        pick_labs(worker, ["nope"])


def test_labs_not_known_are_taken_as_ids(fleet):
    stopped = fleet[5]  # a stopped worker: its labs are not known
    assert stopped.labs is None
    assert pick_labs(stopped, ["9b1c", "9b1c"]) == [LabPick("9b1c")]


def test_with_several_accounts_a_worker_is_named_by_its_key(fleet):
    """The same instance id in two accounts (a simulator, or a copied fleet): the id alone is
    ambiguous and the error lists each worker's key; the key, or a name, picks one."""
    workers = build_workers()
    workers[3].account, workers[4].account = "lab", "prod"
    workers[4].instance_id = workers[3].instance_id
    dtos = snapshot(workers).workers
    lab = next(dto for dto in dtos if dto.id == f"lab/{workers[3].instance_id}")
    prod = next(dto for dto in dtos if dto.id == f"prod/{workers[3].instance_id}")
    with pytest.raises(PickError) as error:
        pick_workers(dtos, [workers[3].instance_id])
    message = str(error.value)
    assert "names 2 workers" in message and lab.id in message and prod.id in message
    assert "name one by account/instance-id" in message
    assert pick_workers(dtos, [prod.id, lab.name]) == [prod, lab]
