"""Use cases: plain arguments in, result dataclasses out; no botbuilder, no card JSON."""
