"""Registry use cases. Plain functions with keyword-only arguments; one transaction each; access checked inside."""
