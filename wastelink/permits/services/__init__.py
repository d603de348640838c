"""Permit use cases: streams, applications (drafting, documents, pre-checks, submission), review, permits."""
