"""RecBot's Teams side: app factory, front door, handler, intents, cards, importers and CLI."""
