"""Alerts and digests: everything that goes out to people (see issues 6 and 7)."""
