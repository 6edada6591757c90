"""Lazada."""
