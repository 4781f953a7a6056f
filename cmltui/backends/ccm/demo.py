"""`demo --ccm`: the dashboard on a simulated CML Cloud Manager that the backend starts itself.

The backend's opener starts the simulator (`cmltui.sim.ccm_server`, HTTPS on 127.0.0.1) before
the first connection and its `close()` stops it, as the direct demo's opener starts its fleet:
the dashboard, its signal handlers and its close timeout are the same as for any backend.
"""

from __future__ import annotations

from cmltui.audit import AuditLog, default_audit_path
from cmltui.backends.ccm.backend import CcmBackend, CcmOpened
from cmltui.config import Config

SIM_TOKEN_ENV = "CMLTUI_CCM_TOKEN"
DEMO_LABEL = "ccm demo · simulated Cloud Manager"


def sim_config(config: Config, url: str, ca_file: str) -> Config:
    """The user's config pointed at the simulated Cloud Manager (its URL, CA and region)."""
    data = config.model_dump()
    data["source"].update(
        kind="ccm",
        url=url,
        ca_bundle=ca_file,
        verify_tls=True,
        token_env=SIM_TOKEN_ENV,
        token_command=None,
        regions=["us-east-1"],
    )
    return Config.model_validate(data)


def ccm_demo_backend(config: Config, *, workers: int, seed: int) -> CcmBackend:
    """A Cloud Manager backend on a simulated Cloud Manager it starts on first use."""

    async def open_simulator() -> CcmOpened:
        from cmltui.sim.ccm_server import CcmSimulator

        sim = CcmSimulator(workers=workers, seed=seed)
        await sim.start()
        return CcmOpened(
            config=sim_config(config, sim.url, str(sim.ca_file)),
            env={SIM_TOKEN_ENV: sim.token},
            close=sim.stop,
        )

    return CcmBackend(
        config,
        audit=AuditLog(default_audit_path(demo=True)),
        opener=open_simulator,
        label=DEMO_LABEL,
    )
