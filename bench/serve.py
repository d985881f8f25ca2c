"""One server under test, in its own process: `python -m bench.serve KIND DATABASE_URL PORT`.

KIND is `recbot` (create_app as shipped), `recbot-sdk` (create_app with the SDK's per-turn
connector, i.e. before bot/connector.py), `baseline` (bench/baseline.py), `floor` or
`stateful-floor` (bench/floor.py). Prints `ready` once listening.

RecBot runs with `RECBOT_ADMINS` from the environment (the update-dialog load users are admins)
and without its digest scheduler (it would add a run a minute that is not what is measured here).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web


def build(kind: str, database_url: str) -> web.Application:
    if kind == "baseline":
        from bench.baseline import create_baseline_app

        return create_baseline_app(database_url)
    if kind in ("floor", "stateful-floor"):
        from bench.floor import create_floor_app

        return create_floor_app(database_url, stateful=kind == "stateful-floor")

    import bot.app
    from bot.adapter import create_sdk_authentication
    from bot.config import Settings

    if kind == "recbot-sdk":

        def sdk_authentication(settings: Settings) -> object:
            authentication = create_sdk_authentication(settings)
            # create_app closes its pooled connector on cleanup; the SDK's has nothing to close.
            authentication.close = _nothing_to_close  # type: ignore[attr-defined]
            return authentication

        bot.app.create_authentication = sdk_authentication  # type: ignore[assignment]
    from tests.fakes.teams import TENANT

    admins = Settings.from_env({"RECBOT_ADMINS": os.environ.get("RECBOT_ADMINS", "")}).admins
    # The load's activities come from this tenant: the force's own, as in production.
    settings = Settings(database_url=database_url, admins=admins, run_scheduler=False, app_tenant_id=TENANT)
    app = bot.app.create_app(settings)
    app.on_startup.append(bot.app.settle_memory)  # as `recbot serve` does
    return app


async def _nothing_to_close() -> None:
    return None


async def main(kind: str, database_url: str, port: int) -> None:
    runner = web.AppRunner(build(kind, database_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
