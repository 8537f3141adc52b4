"""compfeed's settings, from options or ``COMPFEED_*`` environment variables, and the
Prefect settings compfeed runs with unless the operator chose otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE = Path("db") / "compfeed.sqlite3"
DEFAULT_BASE_URL = "http://localhost:8000/"

# Set before Prefect is imported, and only where the environment says nothing.
PREFECT_DEFAULTS = {
    # No telemetry or other traffic leaves the machine.
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The module loggers of compfeed reach the run logs and the console.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "flows,db",
    # A first start of the temporary local server took 13 s here; leave headroom.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    # Pipeline functions also run outside flows (validate, tests): no warning for that.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # A served deployment asks for due runs every 2 s instead of 10: a manual trigger
    # starts within about 2 s, for one small API call per poll.
    "PREFECT_RUNNER_POLL_FREQUENCY": "2",
}


def apply_prefect_defaults() -> None:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


DEFAULT_FEED_WINDOW = 50


@dataclass(frozen=True)
class Settings:
    seeds: Path
    database_url: str
    out: Path
    base_url: str
    feed_window: int = DEFAULT_FEED_WINDOW

    @classmethod
    def load(
        cls,
        seeds: Path | str | None = None,
        database_url: str | None = None,
        out: Path | str | None = None,
        base_url: str | None = None,
        feed_window: int | None = None,
    ) -> Settings:
        """Given values first, then the environment, then the defaults."""
        env = os.environ.get
        database_url = database_url or env("COMPFEED_DATABASE_URL")
        if not database_url:
            database_url = f"sqlite:///{DEFAULT_DATABASE.resolve()}"
        return cls(
            seeds=Path(seeds or env("COMPFEED_SEEDS") or "seeds"),
            database_url=database_url,
            out=Path(out or env("COMPFEED_OUT") or "public"),
            base_url=base_url or env("COMPFEED_BASE_URL") or DEFAULT_BASE_URL,
            feed_window=feed_window
            or int(env("COMPFEED_FEED_WINDOW") or DEFAULT_FEED_WINDOW),
        )
