"""Benchmarks of wastelink, run with `make bench` (`python -m bench`). Printed, not asserted.

Each benchmark builds its own throwaway database (never the developer's wastelink.sqlite3): see bench/__main__.py.
"""
