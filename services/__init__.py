"""Use cases: plain requests in (`requests.py`), plain results out (`results.py`, `delivery.py`); no botbuilder, no card JSON."""
