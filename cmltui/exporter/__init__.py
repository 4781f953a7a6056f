"""`cmltui exporter`: the fleet on a Prometheus /metrics endpoint (needs prometheus-client)."""
