"""Errors described for the log without the data they carry: no officer's text, no token.

An exception's message is where data leaks: a database error repeats its statement's parameters
(SQLAlchemy's `hide_parameters` stops that) and PostgreSQL's DETAIL quotes the failing row (nothing
on the client side stops that); other messages may quote what someone typed. So the log gets the
exception's type, where it was raised, and for a database error the SQL and its SQLSTATE — never a
message.
"""

from __future__ import annotations

import traceback

STATEMENT_LIMIT = 300


def describe_failure(error: BaseException, *, with_traceback: bool = True) -> str:
    """`error` for the log: its type (and its causes' types), the SQL it ran, and where it was raised."""
    lines = [_headline(error)]
    cause = error.__cause__ or error.__context__
    while cause is not None and len(lines) < 5:
        lines.append(f"caused by {_headline(cause)}")
        cause = cause.__cause__ or cause.__context__
    if with_traceback and error.__traceback__ is not None:
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in traceback.format_tb(error.__traceback__))
    return "\n".join(lines)


def _headline(error: BaseException) -> str:
    headline = type(error).__name__
    # SQLAlchemy's DBAPIError carries the driver's exception (`orig`) and our own SQL (`statement`).
    original = getattr(error, "orig", None)
    if original is not None:
        code = getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", None)
        headline += f" ({type(original).__name__}{f', {code}' if code else ''})"
    statement = getattr(error, "statement", None)
    if isinstance(statement, str):
        headline += f" in: {' '.join(statement.split())[:STATEMENT_LIMIT]}"
    return headline
