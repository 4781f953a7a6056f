"""cmltui: a terminal live monitor for Cisco Modeling Labs workers on AWS EC2."""

__version__ = "0.1.0"
