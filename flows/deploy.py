"""compfeed as a Prefect deployment: served on a schedule, triggered by hand.

``compfeed serve`` keeps a deployment of the ``compfeed-run`` flow alive against a
Prefect server, scheduled by ``COMPFEED_SCHEDULE`` (a cron line in UTC, or a number of
seconds between runs) and limited to one run at a time. ``compfeed trigger`` asks that
deployment for a run now and waits for it. Several machines use a work pool instead;
see ``prefect.yaml`` and the README.
"""

from __future__ import annotations

import asyncio
import os

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import serve as serve_deployments
from prefect.settings import PREFECT_API_URL

from flows.pipeline import run_flow

DEPLOYMENT = "compfeed"
FULL_NAME = f"compfeed-run/{DEPLOYMENT}"
DEFAULT_SCHEDULE = "0 * * * *"  # hourly, on the hour, in UTC


class NoServer(Exception):
    """No Prefect server to serve or trigger a deployment with."""


def check_server() -> str:
    """The Prefect API URL, once a server answers there."""
    url = PREFECT_API_URL.value()
    if not url:
        raise NoServer(
            "no Prefect server is configured: start one with `prefect server start` "
            "and set PREFECT_API_URL (for example http://127.0.0.1:4200/api)"
        )
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise NoServer(f"no Prefect server answers at {url}: {exc}") from exc
    return str(url)


def schedule() -> dict[str, object]:
    """The deployment's schedule from ``COMPFEED_SCHEDULE``."""
    value = os.environ.get("COMPFEED_SCHEDULE", DEFAULT_SCHEDULE).strip()
    if value.isdigit():
        return {"interval": int(value)}
    return {"cron": value}


def serve() -> None:
    """Serve the scheduled deployment until stopped; one run at a time."""
    check_server()
    deployment = run_flow.to_deployment(
        name=DEPLOYMENT,
        concurrency_limit=1,
        description="Ingest the seeds folder, compare quarters, publish the feeds.",
        **schedule(),  # type: ignore[arg-type]
    )
    assert isinstance(deployment, RunnerDeployment)  # the synchronous call's result
    serve_deployments(deployment, limit=1)


def trigger(force: bool, guides: list[str] | None, timeout: float | None) -> FlowRun:
    """Ask the served deployment for a run now, and wait for its end."""
    check_server()
    parameters: dict[str, object] = {"force": force}
    if guides:
        parameters["guides"] = guides
    flow_run = run_deployment(
        FULL_NAME, parameters=parameters, timeout=timeout, poll_interval=1
    )
    assert isinstance(flow_run, FlowRun)  # the synchronous call's result
    return flow_run


def run_summary(flow_run: FlowRun) -> str | None:
    """The markdown summary the run left as an artifact, if any."""

    async def read() -> str | None:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])
                )
            )
        return str(found[0].data) if found else None

    return asyncio.run(read())
