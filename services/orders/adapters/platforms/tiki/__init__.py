"""Tiki."""
