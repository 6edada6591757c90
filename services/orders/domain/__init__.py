"""The orders domain: the canonical order, its statuses and lifecycle, money and addresses.

Pure code only: no I/O, no database, no broker, no logging, so every rule here is unit-testable.
"""
