"""The embedded simulated fleet behind `cmltui demo`: the same service, opened on a simulator."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cmltui.api.backend import BackendContext
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain.accounts import SIMULATED_ACCOUNTS
from cmltui.domain.intervals import Cadence

if TYPE_CHECKING:
    from cmltui.backends.direct.service import CoreService, Progress
    from cmltui.backends.direct.wiring import Core, Endpoints


def demo_config(config: Config, region: str, accounts: tuple[str, ...] = ()) -> Config:
    """The user's config with what the demo must force: the simulator's region and accounts
    (never the user's), TLS on."""
    data = config.model_dump()
    data["aws"].update(
        regions=[region],
        profile=None,
        endpoint_url=None,
        accounts=[{"name": name} for name in accounts],
    )
    # The simulated workers' URL tags name 127.0.0.1, which is not a moto instance's address.
    data["cml"].update(verify_tls=True, ca_bundle=None, overrides=[], allowed_hosts=["127.0.0.1"])
    return Config.model_validate(data)


class SimulatorFacts(Protocol):
    """What a client needs from a simulator: a started fleet, or one parsed from `simulate`."""

    aws_endpoint_url: str
    aws_credentials: Mapping[str, str]
    cml_password: str
    ca_file: Path


def simulator_endpoints(
    fleet: SimulatorFacts, accounts: Mapping[str, Mapping[str, str]] | None = None
) -> Endpoints:
    """Loopback endpoints and dummy credentials, forced on every client the demo makes
    (`accounts`: each named account's own key)."""
    from cmltui.backends.direct.wiring import Endpoints

    return Endpoints(
        aws_endpoint_url=fleet.aws_endpoint_url,
        aws_credentials=fleet.aws_credentials,
        account_credentials=dict(accounts or {}),
        cml_password=fleet.cml_password,
        cml_ca_bundle=fleet.ca_file,
        demo=True,
    )


def demo_service(
    config: Config, *, workers: int, seed: int, clock: Clock | None = None, accounts: int = 1
) -> CoreService:
    """The same core service as `cmltui run`, opened on a simulated fleet it starts first.

    The dashboard paints at once; the service's first step starts the simulator (moto and the
    CML servers, mostly in threads), reporting progress on the status channel.
    """
    from cmltui.backends.direct.service import CoreService

    async def open_core(cadence: Cadence, progress: Progress) -> Core:
        from cmltui.backends.direct.wiring import build_core
        from cmltui.sim.runner import SimulatedFleet

        progress(f"starting the simulated fleet ({workers} workers)…")
        fleet = SimulatedFleet(workers=workers, seed=seed, clock=clock, accounts=accounts)
        await fleet.start(
            lambda phase, done, total: progress(
                f"simulated fleet: {phase} {done}/{total}", done / total if total else None
            )
        )
        try:
            keys = {name: fleet.account(name).credentials for name in fleet.account_names}
            core = build_core(
                demo_config(config, fleet.region, fleet.account_names),
                simulator_endpoints(fleet, keys),
                clock,
                cadence=cadence,
            )
        except BaseException:
            await fleet.stop()
            raise
        core.closers.append(fleet.stop)
        return core

    names = SIMULATED_ACCOUNTS[:accounts] if accounts > 1 else ()
    context = BackendContext(
        profile="demo (simulated)",
        regions=("us-east-1",),
        read_only=config.read_only,
        tls_verified=True,
        demo=True,
        accounts=names,
        listings=max(1, len(names)),
    )
    return CoreService(
        config=config, context=context, opener=open_core, label="demo · simulated fleet"
    )
