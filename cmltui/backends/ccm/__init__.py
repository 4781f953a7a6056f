"""The Cloud Manager backend: a CML Cloud Manager's event stream and REST routes as the source.

`backend` is the `Backend`; `fleet` keeps what Cloud Manager said of each worker; `readers`
read its idle verdicts and lab lists; `stream` and `sse` read the event stream; `events` turns
its events into cmltui's; `api` calls the REST routes; `auth` gets the bearer token; `kinds`
counts odd input without keeping it; `demo` runs it against the simulated Cloud Manager.
"""
