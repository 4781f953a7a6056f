"""The Cloud Manager backend: a CML Cloud Manager's event stream and REST routes as the source.

`backend` is the `Backend`; `stream` and `sse` read the event stream; `api` calls the REST
routes; `auth` gets the bearer token; `demo` runs it against the simulated Cloud Manager.
"""
