"""Prefect's temporary local server for one CLI run, started before anything else.

With no Prefect server configured, Prefect starts a temporary one at the first flow
call: after compfeed has imported Prefect and its pipeline (about 2 s here), and then
waits for the server to import and start (about 3 s). Started first, on the other core,
the server comes up while the command opens its database and imports the pipeline. It
is the server Prefect would start: the same app, uvicorn command and settings, built
with Python's cyclic collector paused (``server_app``).
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

# What Prefect's own temporary server is started with (prefect.server.api.server,
# SubprocessASGIServer); the ephemeral flag runs only the services a single run needs.
_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
_PORT_TAKEN = 3  # uvicorn's exit status when it cannot bind


class LocalServer:
    """A temporary Prefect API server in a subprocess, on a free loopback port."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.answered = False
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self._start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _start(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory"),
            *("--app-dir", str(Path(__file__).parent.parent)),
            f"{__name__}:server_app",
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--log-level", "error", "--lifespan", "on"),
        ]
        # Its output is kept aside: it matters only when it fails to start, and its
        # services may log a cancelled flush when it is stopped at the end.
        self.output.seek(0)
        self.output.truncate()
        self.process = subprocess.Popen(
            command,
            env=os.environ | _SERVER_ENV,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            status = self.process.poll()
            if status == _PORT_TAKEN:  # another process took the port meanwhile
                self._start()
                continue
            if status is not None:
                raise RuntimeError(
                    f"the temporary Prefect server exited with status {status}: "
                    + self._last_words()
                )
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=1):
                    self.answered = True
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
        raise RuntimeError(
            f"the temporary Prefect server did not answer within {timeout:.0f} s: "
            + self._last_words()
        )

    def _last_words(self) -> str:
        self.output.seek(0)
        lines = self.output.read().decode("utf-8", "replace").strip().splitlines()
        return " / ".join(lines[-3:]) or "it printed nothing"

    def stop(self) -> None:
        if self.process is None:
            return
        self.output.close()
        if self.answered:
            self.process.terminate()
        else:
            # It has served no run, so it holds nothing to save, and uvicorn heeds a
            # SIGTERM only once the app is imported and started, seconds later.
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def uncollected() -> Iterator[None]:
    """Python's cyclic collector is paused in this block, and what the block built is
    left out of later collections: importing Prefect creates some 400,000 objects that
    live as long as the process, and walking them again and again while they were
    created made up a fifth of the import time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def server_app() -> FastAPI:
    """Prefect's API app, as Prefect's temporary server builds it (the uvicorn factory
    run in the server process)."""
    with uncollected():
        from prefect.server.api.server import create_app
    with uncollected():
        # Built apart from the import: the one collection the app makes for a
        # temporary server then walks only the app's own objects.
        return create_app()


_active: list[LocalServer] = []  # the server flows of this process use now


@contextmanager
def started() -> Iterator[LocalServer | None]:
    """A server started now and stopped at the end, unless one serves already or a
    Prefect API is named: in the environment, or in settings once Prefect is
    imported. A profile that names one is only known after the import (``serving``
    then stops this server)."""
    server = None
    if not _active and not os.environ.get("PREFECT_API_URL"):
        if "prefect.settings" in sys.modules:
            from prefect.settings import PREFECT_API_URL

            named = bool(PREFECT_API_URL.value())
        else:
            named = False
        server = None if named else LocalServer()
    try:
        yield server
    finally:
        if server is not None:
            server.stop()


@contextmanager
def serving(server: LocalServer | None) -> Iterator[None]:
    """Flow runs in this block use ``server`` once it answers, or the configured
    Prefect API."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    if server is None:
        yield
        return
    try:
        # A profile may name a server, or forbid temporary ones: Prefect decides.
        if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
            server.stop()
            yield
            return
        _active.append(server)
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            # Settled first: the settings cost a tenth of a second, which the server
            # may still be starting through.
            server.wait_until_healthy(
                PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
            )
            try:
                yield
            finally:
                _flush()
    finally:
        if server in _active:
            _active.remove(server)


def _flush() -> None:
    """Send the run's logs and events before the server goes: otherwise Prefect's
    workers retry against a closed port while the process exits."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)
