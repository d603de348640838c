"""Tracking use cases: the ingest pipeline, trips, geography, retention."""
