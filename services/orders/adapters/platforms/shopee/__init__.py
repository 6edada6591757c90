"""Shopee."""
