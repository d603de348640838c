"""Framework-free domain logic: code lists, identifiers, dates, geometry, the audit chain.

Nothing in this package imports Django, so it can be read, tested and type-checked on its own.
"""
