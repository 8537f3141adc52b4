"""Progress over files, for a person at a terminal; silent everywhere else.

The pipeline reports through ``current()``; the command line installs a Rich progress
bar when its output is a terminal, so logs and scheduled runs stay free of bars.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def start(self, phase: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...


class Silent:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


_reporter: Reporter = Silent()


def current() -> Reporter:
    return _reporter


@contextmanager
def rich_bar() -> Iterator[None]:
    """A Rich progress bar on standard error while the block runs."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    global _reporter
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
    )

    class Bar:
        task: object = None

        def start(self, phase: str, total: int) -> None:
            if self.task is not None:
                bar.remove_task(self.task)  # type: ignore[arg-type]
            self.task = bar.add_task(phase, total=total)

        def advance(self, count: int = 1) -> None:
            if self.task is not None:
                bar.advance(self.task, count)  # type: ignore[arg-type]

    previous, _reporter = _reporter, Bar()
    try:
        with bar:
            yield
    finally:
        _reporter = previous
