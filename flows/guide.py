"""The guide format as pydantic models, and their validation into named problems.

The models follow the guides as researchers really write them: figures may be null, a
bonus is either ``bonus_pct`` or ``bonus_low``/``bonus_high``, region names are free
text. Values are taken strictly: a number written as text is an error, not a guess.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from flows.quarter import Quarter
from flows.verdict import Problem

Money = Annotated[StrictInt, Field(ge=0)]
Percent = Annotated[StrictInt | StrictFloat, Field(ge=0, le=100)]
Slug = Annotated[StrictStr, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Text = Annotated[StrictStr, Field(min_length=1)]
# ISO 4217 spelling; whether the code is a real currency is not checked here.
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]

# Figures that come as a low/high range, in the order guides list them.
RANGES = ("base", "stock", "bonus", "signing_bonus", "total_comp")
FIGURES = (
    "base_low",
    "base_high",
    "stock_low",
    "stock_high",
    "bonus_pct",
    "bonus_low",
    "bonus_high",
    "signing_bonus_low",
    "signing_bonus_high",
    "total_comp_low",
    "total_comp_high",
)


class Region(BaseModel):
    """One region's pay: yearly base, stock over four years, bonus and total comp."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Text
    currency: Currency
    base_low: Money | None = None
    base_high: Money | None = None
    stock_low: Money | None = None
    stock_high: Money | None = None
    bonus_pct: Percent | None = None
    bonus_low: Money | None = None
    bonus_high: Money | None = None
    signing_bonus_low: Money | None = None
    signing_bonus_high: Money | None = None
    total_comp_low: Money | None = None
    total_comp_high: Money | None = None

    @model_validator(mode="after")
    def _ranges_ordered(self) -> Region:
        for name in RANGES:
            low = getattr(self, f"{name}_low")
            high = getattr(self, f"{name}_high")
            if low is not None and high is not None and low > high:
                raise ValueError(f"{name}_low ({low}) is above {name}_high ({high})")
        return self

    def figures(self) -> dict[str, int | float | None]:
        return {name: getattr(self, name) for name in FIGURES}


class LevelMapping(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    internal: StrictStr | None = None
    raw: StrictStr | None = None


class Guide(BaseModel):
    """A guide's frontmatter. Keys beyond these are kept as metadata."""

    model_config = ConfigDict(extra="allow", frozen=True)

    company: Slug
    role: Slug
    company_display: Text | None = None
    role_display: Text | None = None
    role_type: Text | None = None
    data_quality: Text | None = None
    salary_data_quarter: Quarter
    last_updated: date
    next_review_due: date
    compensation: Annotated[list[Region], Field(min_length=1)]
    level_mapping: LevelMapping | None = None
    data_sources: list[Text] = []
    negotiation_dna_summary: StrictStr | None = None

    @model_validator(mode="after")
    def _review_after_update(self) -> Guide:
        if self.next_review_due < self.last_updated:
            raise ValueError(
                f"next_review_due ({self.next_review_due}) is before "
                f"last_updated ({self.last_updated})"
            )
        return self

    @property
    def key(self) -> str:
        return f"{self.company}/{self.role}"

    @property
    def title(self) -> str:
        company = self.company_display or self.company
        role = self.role_display or self.role
        return f"{company} {role}"


def validate_guide(
    metadata: dict[str, Any], line_of: LineFinder
) -> tuple[Guide | None, list[Problem]]:
    """The guide, or every problem pydantic found, each with its field path and line."""
    try:
        return Guide.model_validate(metadata), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(part for part in error["loc"] if not _is_union_branch(part))
            problems.append(
                Problem(
                    message=_message(error),
                    field=field_path(loc) or None,
                    line=line_of(loc),
                )
            )
        return None, _unique(problems)


class LineFinder:
    """Maps a field path to its line in the file, from the composed YAML node tree."""

    def __init__(self, root: Any, first_line: int) -> None:
        self._root = root
        self._first_line = first_line

    def __call__(self, loc: tuple[int | str, ...]) -> int | None:
        node = self._root
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
        if node is None or not hasattr(node, "start_mark"):
            return None
        return int(self._first_line + node.start_mark.line)


def _child(node: Any, part: int | str) -> Any:
    value = getattr(node, "value", None)
    if not isinstance(value, list):
        return None
    if isinstance(part, int):
        return value[part] if 0 <= part < len(value) else None
    for key_node, value_node in value:
        if getattr(key_node, "value", None) == part:
            return value_node
    return None


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('compensation', 1, 'base_low')`` -> ``compensation[1].base_low``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _is_union_branch(part: int | str) -> bool:
    # pydantic names the branch of a union it tried (`int`, `function-after[...]`);
    # the author only needs the field.
    return isinstance(part, str) and (
        part in {"int", "float", "str", "none"} or "[" in part
    )


def _message(error: Any) -> str:
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if error["type"] not in {"missing", "extra_forbidden"} and "input" in error:
        shown = repr(error["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        message = f"{message} (got {shown})"
    return message


def _unique(problems: list[Problem]) -> list[Problem]:
    # A union reports the same failure once per branch; say it once.
    seen: dict[tuple[str | None, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.field, problem.message), problem)
    return list(seen.values())
