"""What compfeed says about each file it looks at.

Every stage reports problems as plain data; a file's verdict travels with the batch and
ends up in the CLI output, the logs and the run summary. One bad file never stops a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"  # valid, and nothing was written (validate)
    INGESTED = "ingested"  # a new version was stored
    UNCHANGED = "unchanged"  # same content as the stored version
    SKIPPED = "skipped"  # not a guide (no frontmatter)
    REJECTED = "rejected"  # a guide with errors; nothing stored


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: the field path, its line when known, and why."""

    message: str
    field: str | None = None
    line: int | None = None

    def describe(self, path: str) -> str:
        where = path if self.line is None else f"{path}:{self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "line": self.line, "message": self.message}


@dataclass
class FileResult:
    path: str
    outcome: Outcome
    guide: str | None = None  # company/role
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    kind: str | None = None  # the change kind of the version written
    version: int | None = None
    headline: str | None = None  # what moved, when the version was compared

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": str(self.outcome),
            "guide": self.guide,
            "errors": [p.as_json() for p in self.errors],
            "warnings": [p.as_json() for p in self.warnings],
        }
