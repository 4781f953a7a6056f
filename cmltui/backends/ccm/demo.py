"""`demo --ccm` and `simulate --ccm`: the simulated CML Cloud Manager, with or without the UI.

(`run --ccm URL` and `snapshot --ccm URL` go through `commands`, which builds a `CcmBackend`.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from cmltui.config import Config

SIM_TOKEN_ENV = "CMLTUI_CCM_TOKEN"


def dispatch(command: str, args: argparse.Namespace, config: Config) -> int:
    handlers = {"demo": _demo, "simulate": _simulate}
    return handlers[command](args, config)


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


def _demo(args: argparse.Namespace, config: Config) -> int:
    from cmltui.backends.ccm.backend import CcmBackend
    from cmltui.clock import SystemClock
    from cmltui.sim.ccm_server import CcmSimulator
    from cmltui.tui.app import CmltuiApp

    async def main() -> int:
        sim = CcmSimulator(workers=args.workers, seed=args.seed)
        await sim.start()
        backend = CcmBackend(
            sim_config(config, sim.url, str(sim.ca_file)), env={SIM_TOKEN_ENV: sim.token}
        )
        app = CmltuiApp(backend, config, SystemClock())  # type: ignore[arg-type]
        try:
            await app.run_async()
        finally:
            await backend.close()
            await sim.stop()
        return app.return_code or 0

    return asyncio.run(main())


def _simulate(args: argparse.Namespace, config: Config) -> int:
    from cmltui.sim.ccm_server import CcmSimulator

    async def serve() -> None:
        sim = CcmSimulator(workers=args.workers, seed=args.seed, host=args.host)
        await sim.start()
        try:
            print(sim.info_text(SIM_TOKEN_ENV), flush=True)
            await asyncio.Event().wait()
        finally:
            await sim.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("\ncmltui: simulator stopped", file=sys.stderr)
    return 0
