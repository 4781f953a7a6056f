"""The one precondition rule for the lab and licence actions, and the one bulk-pause choice."""

from __future__ import annotations

import pytest

from cmltui.domain.enums import LicenseStatus, WorkerStatus
from cmltui.domain.idle import IdleState
from cmltui.domain.rules import Shown, action_refusal, bulk_pause_choice

LAB_AND_LICENCE = ["stop_lab", "start_lab", "wipe_lab", "register_licence", "deregister_licence"]


@pytest.mark.parametrize("kind", LAB_AND_LICENCE)
def test_cml_actions_need_a_running_worker_and_are_blocked_read_only(kind):
    assert action_refusal(kind, name="w", status=WorkerStatus.RUNNING) is None
    stopped = action_refusal(kind, name="w", status=WorkerStatus.STOPPED)
    assert stopped is not None and stopped.startswith("w is stopped; only a running worker's CML")
    read_only = action_refusal(kind, name="w", status=WorkerStatus.RUNNING, read_only=True)
    assert read_only is not None and read_only.startswith("read-only mode:")
    busy = action_refusal(kind, name="w", status=WorkerStatus.RUNNING, in_flight=True)
    assert busy == "w: an action is already in flight; wait for it"


@pytest.mark.parametrize(
    ("kind", "state", "refused"),
    [
        ("stop_lab", "STARTED", None),
        ("stop_lab", "BOOTED", None),
        ("stop_lab", "STOPPED", "lab OSPF is already stopped (STOPPED)"),
        ("stop_lab", "DEFINED_ON_CORE", "lab OSPF is already stopped (DEFINED_ON_CORE)"),
        ("start_lab", "STOPPED", None),
        ("start_lab", "DEFINED_ON_CORE", None),
        ("start_lab", "STARTED", "lab OSPF is already started (STARTED)"),
        ("wipe_lab", "STOPPED", None),
        ("wipe_lab", "STARTED", "lab OSPF is running (STARTED); stop it before wiping it"),
        ("wipe_lab", "QUEUED", "lab OSPF is running (QUEUED); stop it before wiping it"),
        ("wipe_lab", "DEFINED_ON_CORE", "lab OSPF is already wiped (DEFINED_ON_CORE)"),
        ("wipe_lab", "SOMETHING_NEW", None),  # a state CML may add: CML decides
        ("stop_lab", None, None),  # state not known: CML decides
    ],
)
def test_the_lab_state_decides_what_a_lab_action_may_do(kind, state, refused):
    why = action_refusal(
        kind, name="w", status=WorkerStatus.RUNNING, lab_title="OSPF", lab_state=state
    )
    assert why == refused


def test_a_stopped_worker_is_named_before_its_lab():
    why = action_refusal(
        "stop_lab", name="w", status=WorkerStatus.STOPPED, lab_title="x", lab_state="STARTED"
    )
    assert why is not None and why.startswith("w is stopped")


def shown(worker_id, status=WorkerStatus.RUNNING, idle=IdleState.IDLE):
    return Shown(worker_id, f"name-{worker_id}", status, idle)


def test_bulk_choice_takes_every_idle_running_worker_in_order_when_none_is_marked():
    fleet = [
        shown("a"),
        shown("b", idle=IdleState.ACTIVE),
        shown("c", idle=IdleState.UNKNOWN),
        shown("d", status=WorkerStatus.STOPPED, idle=None),
        shown("e", idle=IdleState.SNOOZE),
        shown("f"),
        shown("g", status=WorkerStatus.STOPPING, idle=IdleState.IDLE),
    ]
    chosen, why = bulk_pause_choice(fleet, set(), read_only=False, in_flight={"f"})
    assert why == "idle"
    assert [s.worker_id for s in chosen] == ["a"]  # f is in flight, g is already stopping
    chosen, _why = bulk_pause_choice(fleet, set(), read_only=False)
    assert [s.worker_id for s in chosen] == ["a", "f"]


def test_bulk_choice_takes_the_marked_ones_whatever_their_idle_state():
    fleet = [shown("a"), shown("b", idle=IdleState.ACTIVE), shown("d", WorkerStatus.STOPPED)]
    chosen, why = bulk_pause_choice(fleet, {"b", "d"}, read_only=False)
    assert why == "marked" and [s.worker_id for s in chosen] == ["b"]


def test_bulk_choice_is_empty_in_read_only_mode():
    assert bulk_pause_choice([shown("a")], set(), read_only=True)[0] == []


@pytest.mark.parametrize(("shown", "sets"), [(True, True), (False, False)])
def test_a_toggle_to_what_idle_detection_already_is_sends_nothing(shown, sets):
    word = "on" if sets else "off"
    why = action_refusal(
        "toggle_idle_detection",
        name="w",
        status=WorkerStatus.RUNNING,
        idle_detection=shown,
        sets_detection=sets,
    )
    assert why == f"w: idle detection is already {word}"
    # said before read-only mode, as "already stopped" is
    read_only = action_refusal(
        "toggle_idle_detection",
        name="w",
        status=WorkerStatus.STOPPED,
        read_only=True,
        idle_detection=shown,
        sets_detection=sets,
    )
    assert read_only == why


def test_a_toggle_to_the_other_value_or_a_plain_flip_may_be_sent():
    for shown in (True, False):
        flip = action_refusal(
            "toggle_idle_detection", name="w", status=WorkerStatus.STOPPED, idle_detection=shown
        )
        other = action_refusal(
            "toggle_idle_detection",
            name="w",
            status=WorkerStatus.RUNNING,
            idle_detection=shown,
            sets_detection=not shown,
        )
        assert flip is None and other is None


@pytest.mark.parametrize(
    ("licence", "refused"),
    [
        (LicenseStatus.UNREGISTERED, "w has no registered licence; nothing to deregister"),
        (LicenseStatus.REGISTERED, None),
        (LicenseStatus.EVALUATION, None),  # CML decides
        (LicenseStatus.EXPIRED, None),
        (LicenseStatus.INVALID, None),
        (None, None),  # not read yet: CML decides
    ],
)
def test_only_a_registered_licence_can_be_deregistered(licence, refused):
    why = action_refusal(
        "deregister_licence", name="w", status=WorkerStatus.RUNNING, licence=licence
    )
    assert why == refused
    stopped = action_refusal(
        "deregister_licence", name="w", status=WorkerStatus.STOPPED, licence=licence
    )
    assert stopped is not None and stopped.startswith("w is stopped")  # the worker first
    register = action_refusal(
        "register_licence", name="w", status=WorkerStatus.RUNNING, licence=licence
    )
    assert register is None  # the licence matters to deregistration only
