"""The manifest lets people send RecBot files (import by upload, bot/uploads.py)."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "manifest" / "manifest.json"


def test_the_bot_accepts_files_in_personal_chats() -> None:
    """Without `supportsFiles` Teams offers no attach button in the 1:1 chat and delivers no file."""
    (bot,) = json.loads(MANIFEST.read_text(encoding="utf-8"))["bots"]
    assert bot["supportsFiles"] is True
    assert "personal" in bot["scopes"]
