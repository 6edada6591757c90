"""Notifications domain: SMS encoding, templates, rendering, sending rules and delivery
reports. Pure, no I/O."""
