"""The Textual dashboard: a thin layer over the core's snapshots and activity events."""
