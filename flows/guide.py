"""The guide format as pydantic models, and their validation into named problems.

The models follow the guides as researchers really write them: figures may be null, a
bonus is either ``bonus_pct`` or ``bonus_low``/``bonus_high``, region names are free
text. Values are taken strictly: a number written as text is an error, not a guess.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeGuard

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from flows.quarter import Quarter
from flows.verdict import Problem

# At most a quadrillion: above any pay in any currency, and within a database's BIGINT.
Money = Annotated[StrictInt, Field(ge=0, le=10**15)]
Percent = Annotated[StrictInt | StrictFloat, Field(ge=0, le=100)]
Slug = Annotated[StrictStr, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Text = Annotated[StrictStr, Field(min_length=1)]

# ISO 4217's list one as in force in 2026: the codes of the currencies in use, without
# the funds (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals, special
# drawing rights and test codes, none of which pays a salary.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD
    IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP
    SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
    UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905
)


def _known_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError("is not a currency code of ISO 4217")
    return code


Currency = Annotated[
    StrictStr, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)
]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: Any) -> Any:
    """A date written as text (quoted, or a day that does not exist, which the loader
    leaves as text) must be YYYY-MM-DD and a real day."""
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a day of the calendar") from None
    if isinstance(value, str) and _DAY.match(value):
        raise ValueError("must be a date like 2026-02-23, without a time or time zone")
    return value


# Strict: a date and time, or a number of seconds, is not taken for a date.
Day = Annotated[date, Strict(), BeforeValidator(_day)]

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

    def figures(self) -> dict[str, int | float | None]:
        return {name: getattr(self, name) for name in FIGURES}


class LevelMapping(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    internal: StrictStr | None = None
    raw: StrictStr | None = None


class Guide(BaseModel):
    """A guide's frontmatter. Keys beyond these are kept as metadata.

    Checks across fields (a low above its high, a review due before the update) are
    made by ``validate_guide``, beside pydantic's, so that every problem is reported
    at once.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    company: Slug
    role: Slug
    company_display: Text | None = None
    role_display: Text | None = None
    role_type: Text | None = None
    data_quality: Text | None = None
    salary_data_quarter: Quarter
    last_updated: Day
    next_review_due: Day
    compensation: Annotated[list[Region], Field(min_length=1)]
    level_mapping: LevelMapping | None = None
    data_sources: list[Text] = []
    negotiation_dna_summary: StrictStr | None = None

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
    """The guide, or every problem in it, each with its field path and line."""
    problems = [
        Problem(message, field_path(loc), line_of(loc))
        for loc, message in _cross_field_problems(metadata)
    ]
    try:
        guide = Guide.model_validate(metadata)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A bonus_pct that is neither int nor float is told once: not a number.
        not_numbers = {e["loc"][:-1] for e in errors if e["type"] == "float_type"}
        for error in errors:
            if error["type"] == "int_type" and error["loc"][:-1] in not_numbers:
                continue
            loc = tuple(part for part in error["loc"] if not _is_union_branch(part))
            problems.append(
                Problem(_message(error), field_path(loc) or None, line_of(loc))
            )
        return None, _unique(problems)
    return (None, problems) if problems else (guide, [])


def _cross_field_problems(
    metadata: dict[str, Any],
) -> list[tuple[tuple[Any, ...], str]]:
    """Ranges and dates that contradict each other, wherever both ends are valid."""
    found: list[tuple[tuple[Any, ...], str]] = []
    regions = metadata.get("compensation")
    for index, region in enumerate(regions if isinstance(regions, list) else []):
        if not isinstance(region, dict):
            continue
        for name in RANGES:
            low, high = region.get(f"{name}_low"), region.get(f"{name}_high")
            if _is_int(low) and _is_int(high) and low > high:
                message = f"{name}_low ({low}) is above {name}_high ({high})"
                found.append((("compensation", index, f"{name}_low"), message))
    updated = _as_day(metadata.get("last_updated"))
    due = _as_day(metadata.get("next_review_due"))
    if updated is not None and due is not None and due < updated:
        message = f"next_review_due ({due}) is before last_updated ({updated})"
        found.append((("next_review_due",), message))
    return found


def _as_day(value: Any) -> date | None:
    try:
        day = _day(value)
    except ValueError:
        return None
    return day if isinstance(day, date) else None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


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


# Messages an author understands, by pydantic's error type; others keep pydantic's.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of a region (a misspelling?)",
    "int_type": "must be a whole number, written without quotes or separators",
    "int_parsing": "must be a whole number, written without quotes or separators",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "greater_than_equal": "must not be negative",
    "less_than_equal": "must be at most {le}",
    "string_type": "must be text (in quotes, if it reads as a number or date)",
    "string_too_short": "must not be empty",
    "too_short": "must list at least one region",
    "list_type": "must be a list",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "date_type": "must be a date like 2026-02-23",
    "date_parsing": "must be a date like 2026-02-23",
    "date_from_datetime_parsing": "must be a date like 2026-02-23",
    "date_from_datetime_inexact": "must be a date like 2026-02-23, without a time",
}
_PATTERNS = {
    "currency": "must be a three-letter currency code in capitals, like USD",
    "company": "must be lowercase letters, digits and hyphens, like acme-corp",
    "role": "must be lowercase letters, digits and hyphens, like data-engineer",
}


def _message(error: Any) -> str:
    kind, field = error["type"], error["loc"][-1] if error["loc"] else None
    if kind == "string_pattern_mismatch" and field in _PATTERNS:
        message = _PATTERNS[field]
    elif kind in _MESSAGES:
        message = _MESSAGES[kind].format(**error.get("ctx", {}))
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    if kind not in {"missing", "extra_forbidden"} and "input" in error:
        shown = repr(error["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        message = f"{message} (got {shown})"
    return message


def _unique(problems: list[Problem]) -> list[Problem]:
    # A union reports a failure once per branch; say it once per field.
    seen: dict[tuple[str | None, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.field, problem.message), problem)
    return list(seen.values())
