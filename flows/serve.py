"""Serve the published folder read-only over HTTP, with Starlette's static files:
feed media types, ETag and Last-Modified, and 304 for a conditional GET."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# By file name first (both feeds end in .xml), then by suffix.
MEDIA_TYPES = {
    "feed.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}


def media_type(name: str) -> str | None:
    return MEDIA_TYPES.get(name) or MEDIA_TYPES.get(Path(name).suffix)


class PublishedFiles(StaticFiles):
    """Static files with compfeed's media types; GET and HEAD only."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        known = media_type(Path(full_path).name)
        if known is not None and response.status_code != 304:
            response.headers["content-type"] = known
        return response


def app_for(folder: Path) -> Starlette:
    return Starlette(routes=[Mount("/", PublishedFiles(directory=folder, html=True))])


def serve(folder: Path, host: str, port: int, **options: Any) -> None:
    import uvicorn

    uvicorn.run(app_for(folder), host=host, port=port, **options)
