"""TikTok Shop."""
