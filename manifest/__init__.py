"""The Teams app manifest and its icons, shipped as package data so `recbot manifest build` works from a wheel."""
