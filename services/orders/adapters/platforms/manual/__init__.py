"""Manual orders."""
