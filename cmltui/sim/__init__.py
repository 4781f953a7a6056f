"""The simulated fleet behind `cmltui demo` and the tests: moto (EC2 + CloudWatch) plus a CML 2.9
API simulator over HTTPS on loopback, driven by one injected clock (README, "The simulator on
its own")."""

from cmltui.sim.fleet import Fault, SimWorkerSpec, build_fleet
from cmltui.sim.runner import SimulatedFleet, SimWorker, simulate_info_text

__all__ = [
    "Fault",
    "SimWorker",
    "SimWorkerSpec",
    "SimulatedFleet",
    "build_fleet",
    "simulate_info_text",
]
