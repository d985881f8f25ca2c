"""One ComponentDialog per multi-turn conversation; dialogs call services and hold no SQL."""
