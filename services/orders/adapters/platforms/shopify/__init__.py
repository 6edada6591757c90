"""Shopify."""
