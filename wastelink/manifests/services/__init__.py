"""Manifest use cases: drafting, custody signatures, receipt and discrepancies, corrections, oversight."""
