"""Both backends are complete `Backend`s: every member of the protocol, async where it is."""

from __future__ import annotations

import inspect

import pytest

from cmltui.api.backend import Backend
from cmltui.backends.ccm.backend import CcmBackend
from cmltui.backends.direct.service import CoreService

MEMBERS = {
    name: member
    for name, member in vars(Backend).items()
    if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
}


def test_the_protocol_has_the_whole_contract():
    assert {"snapshot_once", "audit_entries", "subscribe_warnings", "pause_many"} <= set(MEMBERS)
    assert "warnings" not in MEMBERS  # a list the dashboard polled by index: gone from the seam


@pytest.mark.parametrize("backend", [CoreService, CcmBackend], ids=lambda b: b.__name__)
def test_each_backend_implements_every_member(backend):
    for name, member in MEMBERS.items():
        implemented = getattr(backend, name, None)
        assert implemented is not None, f"{backend.__name__} lacks {name}"
        if inspect.isfunction(member):
            assert inspect.iscoroutinefunction(implemented) == inspect.iscoroutinefunction(
                member
            ), f"{backend.__name__}.{name}: async where the protocol is, and only there"
