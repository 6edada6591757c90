"""Jinja2 templates of the story page (package data)."""
