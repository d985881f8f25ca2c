"""Adaptive Cards by subject: what the bot shows, as plain dicts."""
