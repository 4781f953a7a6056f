"""The direct backend: cmltui's own core over AWS and the workers' CML APIs.

`service` runs the schedules and publishes both channels; `wiring` builds the core from a
config; `collector` makes snapshots; `idle_checker` reads telemetry and auto-pauses; `actions`
write to AWS; `targets` decides where CML credentials may go; `pricing` and `savings` give
the money; `demo` opens the same service on the simulated fleet.
"""
