"""`recbot serve` as a real subprocess on a loopback port, for tests in which the process must die."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.fakes.teams import TENANT

RECBOT = str(Path(sys.executable).with_name("recbot"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """One `recbot serve` process: start it, wait for /healthz, SIGKILL or stop it."""

    database_url: str
    workdir: Path
    admins: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("Microsoft", "RECBOT_"))}
        env.update(
            DATABASE_URL=self.database_url,
            MicrosoftAppId="",
            MicrosoftAppPassword="",
            RECBOT_SCHEDULER="off",
            RECBOT_ADMINS=",".join(self.admins),
            MicrosoftAppTenantId=TENANT,
            PYTHONWARNINGS="ignore",
        )
        return env

    async def start(self, timeout: float = 20.0) -> ServerProcess:
        log = (self.workdir / f"recbot-{self.port}.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            RECBOT,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            cwd=self.workdir,
            env=self.environment(),
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"recbot serve exited with {self.process.returncode}: {self.log_text()}")
                try:
                    async with session.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"recbot serve not healthy after {timeout} s: {self.log_text()}")
                await asyncio.sleep(0.05)

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in self.workdir.glob(f"recbot-{self.port}.log")
        )

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.process.wait(), 10)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
