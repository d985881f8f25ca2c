"""Use cases over the tracker: no botbuilder. Answers, governance and subscriptions still return `bot.cards` replies (issue 13 moves them to result dataclasses)."""
