"""The `recbot` command: serve, db upgrade, import, export, chat, digest run, manifest build."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.config import Settings, SettingsError
from bot.logs import configure_logging
from domain.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("recbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recbot", description="RecBot: HMICFRS recommendations tracked in Teams")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot's HTTP endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3978)
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve beyond this machine in local mode (no MicrosoftAppId): anyone who reaches it is believed",
    )

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"], help="upgrade: bring the schema to the latest migration")

    importer = commands.add_parser("import", help="import a PCC response document or a CSV tracker")
    importer.add_argument("path", type=Path)
    importer.add_argument("--code", help="the report's short code (default: derived from the title, e.g. OIC-2025)")

    export = commands.add_parser("export", help="write every item of every report as a tracker spreadsheet")
    export.add_argument("--format", choices=["csv", "xlsx"], help="default: xlsx when -o ends in .xlsx, else csv")
    export.add_argument(
        "-o",
        "--output",
        help="the file to write, - for stdout (default: stdout for csv, recbot-export-YYYY-MM-DD.xlsx for xlsx)",
    )

    chat = commands.add_parser("chat", help="talk to the bot in this terminal, over the same database")
    chat.add_argument("--as", dest="email", default="officer@localhost", help="the e-mail you speak as")

    digest = commands.add_parser("digest", help="weekly digests and owner nudges")
    digest.add_argument("action", choices=["run"], help="run: send every digest and nudge due now and not yet sent")
    digest.add_argument("--dry-run", action="store_true", help="print what would go where; send and claim nothing")
    digest.add_argument(
        "--at", type=_moment, help="the moment to run for, ISO-8601 (default: now; no offset = RECBOT_TIMEZONE)"
    )

    manifest = commands.add_parser("manifest", help="the Teams app package")
    manifest.add_argument("action", choices=["build"])
    manifest.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId)")
    manifest.add_argument("-o", "--output", type=Path, help="where to write the zip")
    for page in ("website", "privacy", "terms"):
        manifest.add_argument(
            f"--{page}-url", help=f"the force's {page} page, https:// (default: RECBOT_{page.upper()}_URL)"
        )
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Entry point of the `recbot` command; every command reads the time from `clock`."""
    arguments = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"recbot: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    handlers = {
        "serve": _serve,
        "db": _db,
        "import": _import,
        "export": _export,
        "chat": _chat,
        "manifest": _manifest,
        "digest": _digest,
    }
    return handlers[arguments.command](settings, arguments, clock)


def _serve(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from aiohttp import web

    from bot.app import create_app, settle_memory
    from storage.database import open_engine, schema_is_current

    async def check() -> bool:
        async with open_engine(settings.database_url, settings.pool) as engine:
            return await schema_is_current(engine)

    if not settings.authentication_enabled and not _is_loopback(arguments.host) and not arguments.allow_unauthenticated:
        print(
            f"recbot: refusing to serve on {arguments.host} in local mode: MicrosoftAppId is empty, so requests are not "
            "authenticated. Set the Bot Framework credentials, serve on 127.0.0.1, or pass --allow-unauthenticated.",
            file=sys.stderr,
        )
        return 2
    if not asyncio.run(check()):
        print("recbot: the database schema is not up to date: run `recbot db upgrade` first", file=sys.stderr)
        return 2
    settings.warn_if_open()
    app = create_app(settings, clock=clock)
    app.on_startup.append(settle_memory)
    web.run_app(app, host=arguments.host, port=arguments.port, print=None)
    return 0


def _is_loopback(host: str) -> bool:
    """True when `host` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _db(settings: Settings, _arguments: argparse.Namespace, _clock: Clock) -> int:
    from storage.database import open_engine, upgrade

    async def run() -> None:
        async with open_engine(settings.database_url, settings.pool) as engine:
            await upgrade(engine)

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def _import(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from services.importers import DocumentError
    from services.importing import import_file
    from storage.database import create_sessionmaker, open_engine

    async def run() -> list[str]:
        async with open_engine(settings.database_url, settings.pool) as engine:
            return await import_file(create_sessionmaker(engine), arguments.path, code=arguments.code)

    try:
        lines = asyncio.run(run())
    except DocumentError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _export(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from services.export import ExportError, run_export
    from storage.database import create_sessionmaker, open_engine

    # "Today" for RAG and the default file name is the day where the force works.
    today = clock.today(settings.tz)

    async def run() -> str:
        async with open_engine(settings.database_url, settings.pool) as engine:
            return await run_export(
                create_sessionmaker(engine),
                format=arguments.format,
                output=arguments.output,
                today=today,
                tz=settings.tz,
            )

    try:
        message = asyncio.run(run())
    except ExportError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    # stdout may be the export itself: the summary goes to stderr.
    print(message, file=sys.stderr)
    return 0


def _chat(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from bot.handler import RecBot
    from bot.terminal import chat
    from storage.database import create_sessionmaker, open_engine

    async def run() -> None:
        async with open_engine(settings.database_url, settings.pool) as engine:
            await chat(RecBot(settings, create_sessionmaker(engine), clock=clock), arguments.email.strip().lower())

    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run())
    return 0


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 moment: {text!r} (e.g. 2026-03-02T09:30)") from error


def _digest(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from bot.adapter import create_adapter, create_authentication
    from bot.proactive import Deliverer
    from services.digest_plan import RunSettings
    from services.digests import run_due
    from storage.database import create_sessionmaker, open_engine

    at = arguments.at or clock.now()
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.tz)

    async def run() -> int:
        authentication = create_authentication(settings)
        try:
            async with open_engine(settings.database_url, settings.pool) as engine:
                sessionmaker = create_sessionmaker(engine)
                deliverer = Deliverer(create_adapter(authentication), sessionmaker, app_id=settings.app_id)
                report = await run_due(
                    sessionmaker=sessionmaker,
                    deliverer=deliverer,
                    settings=RunSettings.from_settings(settings),
                    at=at,
                    dry_run=arguments.dry_run,
                    out=sys.stdout,
                )
        finally:
            await authentication.close()
        return 1 if report.failed else 0

    return asyncio.run(run())


def _manifest(settings: Settings, arguments: argparse.Namespace, clock: Clock) -> int:
    from bot.manifest import DEFAULT_OUTPUT, Links, build_package

    app_id = arguments.app_id or settings.app_id
    if not app_id:
        print("recbot: give --app-id or set MicrosoftAppId to build the Teams app package", file=sys.stderr)
        return 2
    urls = {
        page: getattr(arguments, f"{page}_url") or os.environ.get(f"RECBOT_{page.upper()}_URL", "")
        for page in ("website", "privacy", "terms")
    }
    missing = [f"--{page}-url (or RECBOT_{page.upper()}_URL)" for page, url in urls.items() if not url.strip()]
    if missing:
        print(f"recbot: the app package needs the force's pages: give {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        links = Links(website=urls["website"].strip(), privacy=urls["privacy"].strip(), terms=urls["terms"].strip())
        path = build_package(app_id, links, output=arguments.output or DEFAULT_OUTPUT)
    except ValueError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it in Teams (Apps → Manage your apps → Upload an app)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
