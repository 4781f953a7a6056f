"""The core domain: worker state, statuses, idle policy and events. Plain Python, no UI."""
