"""CML's operations an operator sends (labs, the licence), and what CML means by each answer.

Labs: `PUT /labs/{lab_id}/stop|start|wipe` (204, or 404 when the lab is not there). Licence:
`POST /licensing/registration` with `{token, reregister}` (204: the agent took the request; 400
invalid input, 403 access denied, 409 cannot be requested now) and `DELETE
/licensing/deregistration` (204 done; 202 done on the worker but Smart Licensing was not reached;
400 already deregistered; 403; 409 cannot be requested now). The meanings are CML 2.9's OpenAPI
descriptions. The licence token goes into the request body only: every message below has it cut
out, even when CML repeats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

from cmltui.domain.rules import LabVerb
from cmltui.domain.sanitize import error_text, visible
from cmltui.sources.cml_client import CMLClient, CMLTarget

MAX_LAB_ID = 64
DEREGISTERED_LOCALLY: Final = "deregistered on the worker; Smart Licensing was not reached (202)"

_LAB: Final[Mapping[int, str]] = {
    400: "CML refused it (400)",
    404: "CML has no such lab, or it is not on a compute host (404)",
}
_REGISTER: Final[Mapping[int, str]] = {
    400: "CML refused the registration: invalid input (400)",
    403: "CML denied access to licensing (403)",
    409: "CML is busy: a (re)registration cannot be requested now (409)",
}
_DEREGISTER: Final[Mapping[int, str]] = {
    400: "already deregistered from Smart Licensing (400)",
    403: "CML denied access to licensing (403)",
    409: "CML cannot deregister now (409)",
}


class CMLRefused(Exception):
    """CML answered and said no; nothing changed. The message is CML's meaning and reason."""


def lab_path(lab_id: str, verb: str = "") -> str:
    """`/labs/{lab_id}[/verb]`, the id quoted and bounded (it may come from a command line)."""
    if not lab_id or len(lab_id) > MAX_LAB_ID:
        raise CMLRefused(f"not a lab id: {visible(lab_id, MAX_LAB_ID)!r}")
    path = f"/labs/{quote(lab_id, safe='')}"
    return f"{path}/{verb}" if verb else path


async def lab_action(client: CMLClient, target: CMLTarget, lab_id: str, verb: LabVerb) -> None:
    """Stop, start or wipe a lab; raises `CMLRefused` (CML said no) or `CMLError`."""
    status, body = await client.send(target, "PUT", lab_path(lab_id, verb))
    if status >= 300:
        raise CMLRefused(_reason(_LAB, status, body))


async def register_licence(
    client: CMLClient, target: CMLTarget, token: str, *, reregister: bool
) -> None:
    """Ask CML's agent to (re)register; it works on after answering 204."""
    status, body = await client.send(
        target,
        "POST",
        "/licensing/registration",
        json_body={"token": token, "reregister": reregister},
    )
    if status >= 300:
        raise CMLRefused(_reason(_REGISTER, status, body, secret=token))


async def deregister_licence(client: CMLClient, target: CMLTarget) -> str | None:
    """Deregister; returns a note when Smart Licensing itself was not reached (202)."""
    status, body = await client.send(target, "DELETE", "/licensing/deregistration")
    if status == 202:
        return DEREGISTERED_LOCALLY
    if status >= 300:
        raise CMLRefused(_reason(_DEREGISTER, status, body))
    return None


def _reason(
    meanings: Mapping[int, str], status: int, body: Any, *, secret: str | None = None
) -> str:
    """What CML means by `status`, and its own description when it sent one (bounded)."""
    meaning = meanings.get(status, f"CML error (HTTP {status})")
    description = body.get("description") if isinstance(body, Mapping) else None
    if not isinstance(description, str) or not description.strip():
        return meaning
    return f"{meaning}: {error_text(description, 300, secrets=(secret,) if secret else ())}"
