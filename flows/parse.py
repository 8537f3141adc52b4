"""From a file's bytes to a validated guide and its body, or a verdict saying why not.

Every stage reports what is wrong as a problem with a line where one is known, and
goes on where it safely can, so that a rejected file names all its problems at once:
the size, the encoding and the characters, the frontmatter's delimiters, the YAML, and
the fields. Nothing here raises for bad input.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ftfy
import yaml
from frontmatter.default_handlers import YAMLHandler
from ftfy.badness import is_bad

from flows.compare import region_key, region_name
from flows.guide import Guide, LineFinder, Region, field_path, validate_guide
from flows.verdict import FileResult, Outcome, Problem

log = logging.getLogger(__name__)

# A guide is a few KiB; anything larger is refused before it is decoded or parsed.
MAX_FILE_BYTES = 1024 * 1024

# The keys that make a frontmatter a guide's: with none of them it is some other file.
GUIDE_KEYS = ("company", "role", "salary_data_quarter", "compensation")

_STR = "tag:yaml.org,2002:str"


class GuideLoader(yaml.CSafeLoader):
    """PyYAML's safe loader (libyaml's parser: four times faster here), refusing
    duplicate keys instead of keeping the last, and keys that are not text."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                if isinstance(key_node, yaml.ScalarNode):
                    reason = f"a key must be text, not {key_node.value}: quote it"
                else:
                    reason = f"a key must be text, not a {type(key).__name__}"
                raise yaml.constructor.ConstructorError(
                    None, None, reason, key_node.start_mark
                )
            if key in first:
                raise yaml.constructor.ConstructorError(
                    "first written",
                    first[key],
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            first[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _construct_date(loader: GuideLoader, node: Any) -> date | str:
    # An impossible day such as 2026-02-30 stays text, for validation to name.
    try:
        return date.fromisoformat(node.value)
    except ValueError:
        return str(node.value)


# Plain values resolve as in YAML 1.2's core schema made stricter, so that none turns
# into a value the author did not write: only true/false are booleans, integers are
# decimal without a leading zero (digits may be grouped in threes with '_'), floats are
# plain decimals, dates are YYYY-MM-DD, and everything else (yes, NO, 0123, 10:15,
# 1e5, .inf) stays the text as written.
GuideLoader.yaml_implicit_resolvers = {}  # none of YAML 1.1's is inherited
for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?(?:0|[1-9][0-9]{0,2}(?:_[0-9]{3})+|[1-9][0-9]*)", "-+0123456789"),
    ("float", r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+", "-+0123456789"),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("timestamp", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "0123456789"),
):
    GuideLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(rf"^(?:{_pattern})$"), list(_first)
    )
GuideLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)


@dataclass
class ParsedGuide:
    path: str
    guide: Guide
    body: str
    warnings: list[Problem] = field(default_factory=list)


def read_capped(path: Path) -> bytes:
    """A file's bytes, but never more than one byte past ``MAX_FILE_BYTES``: enough
    for ``parse_guide`` to refuse a file that is too large without reading it all."""
    with path.open("rb") as file:
        return file.read(MAX_FILE_BYTES + 1)


def unreadable(path: str, error: OSError) -> FileResult:
    """The verdict on a file whose bytes could not be read."""
    return _rejected(path, [Problem(f"cannot read: {error}")])


def parse_guide(path: str, data: bytes) -> ParsedGuide | FileResult:
    """Parse one file. Returns the guide, or a skipped or rejected verdict."""
    if len(data) > MAX_FILE_BYTES:
        return _rejected(
            path,
            [Problem(f"larger than {MAX_FILE_BYTES:,} bytes, the most a guide may be")],
        )
    decoded = _decode(data)
    if isinstance(decoded, Problem):
        return _rejected(path, [decoded])
    text, warnings = decoded
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text, errors = _refuse_characters(text)

    split = _split(text)
    if split is None:
        return FileResult(
            path, Outcome.SKIPPED, warnings=[Problem("no frontmatter: not a guide")]
        )
    if isinstance(split, Problem):
        return _rejected(path, [*errors, split], warnings)
    block, body, first_line = split

    loaded = _load_yaml(block, first_line)
    if isinstance(loaded, list):
        return _rejected(path, errors + loaded, warnings)
    metadata, root, flawed = loaded
    opening = first_line - 1
    if metadata is None:
        return _rejected(
            path, [*errors, Problem("frontmatter is empty", line=opening)], warnings
        )
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        problem = Problem(f"frontmatter must be a mapping, not a {kind}", line=opening)
        return _rejected(path, [*errors, problem], warnings)
    if not any(key in metadata for key in GUIDE_KEYS):
        problem = Problem(
            f"not a guide: the frontmatter has none of {', '.join(GUIDE_KEYS)}",
            line=opening,
        )
        return _rejected(path, [*errors, problem], warnings)

    guide, problems = validate_guide(metadata, LineFinder(root, first_line))
    errors += problems + flawed
    if guide is None or errors:
        result = _rejected(path, errors, warnings)
        company, role = metadata.get("company"), metadata.get("role")
        if isinstance(company, str) and isinstance(role, str):
            result.guide = f"{company}/{role}"
        return result

    body_line = first_line + block.count("\n") + 1
    body, repairs = repair_mojibake(body, body_line)
    warnings += repairs
    warnings += table_disagreements(
        guide, body, body_line, LineFinder(root, first_line)
    )
    return ParsedGuide(path, guide, normalise_body(body), warnings)


def _rejected(
    path: str, errors: list[Problem], warnings: list[Problem] | None = None
) -> FileResult:
    return FileResult(path, Outcome.REJECTED, errors=errors, warnings=warnings or [])


# Decoding


# A byte sequence that is valid UTF-8 beyond ASCII. A file holding one is UTF-8, even
# where other bytes are not: reading it as Windows-1252 would make new mojibake.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)

_BOMS = (
    # UTF-32's little-endian mark begins with UTF-16's, so it is looked for first.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _decode(data: bytes) -> tuple[str, list[Problem]] | Problem:
    """The text, exactly as encoded, with a warning if it was not UTF-8; or why not.

    A byte-order mark names the encoding. Without one the file must be UTF-8, or else
    Windows-1252 where every byte decodes and no part of the file is UTF-8.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), []
            except UnicodeDecodeError as exc:
                return Problem(f"not valid {name} at byte {exc.start}")
    nul = data.find(b"\0")
    if nul >= 0:
        return Problem(
            f"a binary file, not text: NUL byte at byte {nul}", line=_line_at(data, nul)
        )
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        start = exc.start
    where = f"at byte {start} (0x{data[start]:02X})"
    line = _line_at(data, start)
    if _UTF8_SEQUENCE.search(data):
        return Problem(
            f"not valid UTF-8 {where}; the rest is UTF-8, so it is not read as "
            "Windows-1252 either",
            line=line,
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return Problem(f"not valid UTF-8 {where}, nor Windows-1252", line=line)
    warning = Problem(
        f"not UTF-8 (first at byte {start}, 0x{data[start]:02X}): read as "
        "Windows-1252, which decodes every byte of it",
        line=line,
    )
    return text, [warning]


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# C0 controls but tab and line feed (carriage returns are gone by now), DEL, C1
# controls, the line and paragraph separators and the two noncharacters that YAML
# also refuses (it would count the separators as line breaks, and lines would not
# match), and the replacement character that marks bytes an earlier decoder lost.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ufffd]")


def _refuse_characters(text: str) -> tuple[str, list[Problem]]:
    """Problems for the characters a guide may not hold, and the text with each of
    them replaced by a space, so that the rest of the file can still be checked."""
    if not _FORBIDDEN.search(text):
        return text, []
    controls: set[str] = set()
    control_lines, lost_lines = [], []
    for number, line in enumerate(text.split("\n"), 1):
        chars = set(_FORBIDDEN.findall(line))
        if "\ufffd" in chars:
            lost_lines.append(number)
            chars.discard("\ufffd")
        if chars:
            control_lines.append(number)
            controls |= chars
    problems = []
    if control_lines:
        names = ", ".join(f"U+{ord(c):04X}" for c in sorted(controls))
        problems.append(
            Problem(
                f"control characters ({names}) {_lines(control_lines)}: only tab and "
                "line breaks may appear in a guide",
                line=control_lines[0],
            )
        )
    if lost_lines:
        problems.append(
            Problem(
                f"U+FFFD replacement characters {_lines(lost_lines)}: text was lost "
                "before the file was saved",
                line=lost_lines[0],
            )
        )
    return _FORBIDDEN.sub(" ", text), problems


# The frontmatter


class _GuideHandler(YAMLHandler):
    """python-frontmatter's YAML handler, with the delimiters guides use: a '---' line
    opens, a '---' line or YAML's own '...' closes. The checks below come first."""

    FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.\.\.)[ \t]*$", re.MULTILINE)


_HANDLER = _GuideHandler()
_OPENING = re.compile(r"-{3,}[ \t]*")
# YAML's own document end marker, '...', closes a frontmatter as well as '---' does.
_CLOSING = re.compile(r"(?:-{3,}|\.\.\.)[ \t]*")
_TOML = re.compile(r"\+{3,}[ \t]*")
# What a delimiter line may have become by a slip: dashes with spaces between them,
# en or em dashes, or three dashes followed by something else.
_MANGLED = re.compile(r"(?:[-–—][ \t]*){2,}|---.*|\+{3,}[ \t]*")
_GUIDE_KEY_LINE = re.compile(rf"(?:{'|'.join(GUIDE_KEYS)})[ \t]*:")


def _split(text: str) -> tuple[str, str, int] | Problem | None:
    """The YAML block, the body and the block's first line number; a problem with the
    delimiters; or None when the file has no frontmatter at all.

    Blank lines before the opening '---' are passed over.
    """
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return None
    opening = lines[start]
    if _TOML.fullmatch(opening):
        return Problem(
            "TOML frontmatter is not supported; guides use YAML between --- lines",
            line=start + 1,
        )
    if not _OPENING.fullmatch(opening):
        if not any(_GUIDE_KEY_LINE.match(line) for line in lines[start : start + 200]):
            return None
        if _MANGLED.fullmatch(opening):
            message = f"frontmatter must open with a '---' line, not {opening!r}"
        else:
            message = "frontmatter has no opening '---' line before its keys"
        return Problem(message, line=start + 1)
    end = next(
        (i for i in range(start + 1, len(lines)) if _CLOSING.fullmatch(lines[i])),
        None,
    )
    # Inside a closed frontmatter only a line at the margin can be a mangled closing
    # (an indented one belongs to a value); with no closing, any can.
    for i in range(start + 1, len(lines) if end is None else end):
        if _MANGLED.fullmatch(lines[i] if end is not None else lines[i].lstrip()):
            return Problem(
                f"frontmatter is not closed: {lines[i]!r} should be '---'", line=i + 1
            )
    if end is None:
        return Problem("frontmatter is not closed by a '---' line", line=start + 1)
    block, body = _HANDLER.split("\n".join(lines[start:]))
    # The handler leaves each delimiter's line break with the text beside it.
    return block.removeprefix("\n"), body.removeprefix("\n"), start + 2


def _load_yaml(
    block: str, first_line: int
) -> tuple[Any, Any, list[Problem]] | list[Problem]:
    """The loaded frontmatter, its node tree and the problems of its values that do
    not stop it from being loaded; or those that do, each with its line."""
    loader = GuideLoader(block)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None, []
        refused, flawed = _inspect(root, block, first_line)
        if refused:
            return refused
        return loader.construct_document(root), root, flawed
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = None if mark is None else first_line + mark.line
        reason = exc.problem or "invalid YAML"
        if reason == "found undefined alias":
            reason += " ('*' starts an alias, which guides do not use: quote the value)"
        if exc.context and exc.context_mark is not None:
            reason += f" ({exc.context} on line {first_line + exc.context_mark.line})"
        return [Problem(f"invalid YAML: {reason}", line=line)]
    except yaml.YAMLError as exc:
        return [Problem(f"invalid YAML: {str(exc).splitlines()[0]}")]
    finally:
        loader.dispose()


def _inspect(
    root: Any, block: str, first_line: int
) -> tuple[list[Problem], list[Problem]]:
    """Anchors and tags, which are refused before anything is built (guides never
    need them, and an alias can multiply a small file into a huge value); and text
    that a ' #' comment cut short, which would be stored as less than was written, or
    that holds control characters written as escapes."""
    refused: dict[str, list[tuple[str, str | None, int]]] = {}
    flawed: list[Problem] = []
    if not any(char in block for char in "&!#\\"):
        return [], flawed
    lines = block.split("\n")
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:
            continue  # an alias: its anchor is refused where it is written
        seen.add(id(node))
        mark = node.start_mark
        if block[mark.index : mark.index + 1] in ("&", "!"):
            written = lines[mark.line][mark.column :].split()[0]
            found = (written, field_path(loc) or None, first_line + mark.line)
            refused.setdefault(written[0], []).append(found)
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.tag == _STR and _comment_follows(node, lines):
                flawed.append(
                    Problem(
                        f"' #' starts a YAML comment, which cuts this value to "
                        f"{node.value!r}; quote the whole value",
                        field_path(loc) or None,
                        first_line + mark.line,
                    )
                )
            elif node.style == '"' and _FORBIDDEN.search(node.value):
                names = sorted(
                    {f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(node.value)}
                )
                flawed.append(
                    Problem(
                        f"control characters ({', '.join(names)}) written as escapes: "
                        "only tab and line breaks may appear in a guide",
                        field_path(loc) or None,
                        first_line + mark.line,
                    )
                )
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack += [(value, (*loc, name)), (key, loc)]
        else:
            stack += [(item, (*loc, i)) for i, item in enumerate(node.value)][::-1]
    return [_refusal(sign, refused[sign]) for sign in sorted(refused)], sorted(
        flawed, key=_by_line
    )


def _refusal(sign: str, found: list[tuple[str, str | None, int]]) -> Problem:
    """One problem for every anchor, or every tag: an alias bomb makes hundreds."""
    found.sort(key=lambda item: item[2])
    written, where, line = found[0]
    kind = "anchors and aliases" if sign == "&" else "tags"
    more = (
        "" if len(found) == 1 else f", and more {_lines([f[2] for f in found[1:]], 5)}"
    )
    return Problem(
        f"{kind} are not allowed in a guide (got {written!r}{more}); "
        f"quote a value that starts with {sign}",
        where,
        line,
    )


def _comment_follows(node: Any, lines: list[str]) -> bool:
    line: int = node.end_mark.line
    rest = lines[line][node.end_mark.column :] if line < len(lines) else ""
    return rest.lstrip().startswith("#")


def _by_line(problem: Problem) -> int:
    return problem.line or 0


# The body


# Every multi-byte UTF-8 sequence starts with a byte from C2 to F4, which Windows-1252
# and Latin-1 show as U+00C2..U+00F4: a line without one holds no such mojibake, and
# the costlier checks are spared.
_UTF8_LEAD_AS_LATIN = re.compile("[\u00c2-\u00f4]")


def repair_mojibake(body: str, first_line: int) -> tuple[str, list[Problem]]:
    """Undo text that was decoded with the wrong codec, with a warning naming the lines.

    Only UTF-8 read as Windows-1252 or Latin-1 is looked for, and only encoding
    repairs are made (no quote or width changes). Where bytes were lost on the way,
    the text cannot be restored exactly; it is kept as written and named, never
    replaced by U+FFFD.
    """
    lines = body.split("\n")
    repaired, lost = [], []
    for number, line in enumerate(lines):
        if not _UTF8_LEAD_AS_LATIN.search(line):
            continue
        fixed = ftfy.fix_encoding(line)
        if "\ufffd" in fixed:
            fixed = line
        if fixed != line:
            lines[number] = fixed
            repaired.append(first_line + number)
        if is_bad(fixed):
            lost.append(first_line + number)
    warnings = []
    if repaired:
        warnings.append(
            Problem(
                f"repaired mojibake in the body {_lines(repaired)}", line=repaired[0]
            )
        )
    if lost:
        warnings.append(
            Problem(
                f"mojibake that cannot be repaired (bytes were lost) {_lines(lost)}; "
                "kept as written",
                line=lost[0],
            )
        )
    return "\n".join(lines), warnings


def _lines(numbers: list[int], most: int = 20) -> str:
    if len(numbers) == 1:
        return f"on line {numbers[0]}"
    shown = [str(n) for n in numbers[:most]]
    if len(numbers) > most:
        shown.append(f"{len(numbers) - most} more")
    return "on lines " + ", ".join(shown)


def normalise_body(body: str) -> str:
    """Line endings, trailing blanks and surrounding blank lines carry no meaning."""
    lines = [line.rstrip() for line in body.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


# The body's pay table


# A figure as the tables write it: '$175K', '£1.2M', 'JPY 8.5M', '175,000'.
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_AMOUNT = rf"(?:[A-Z]{{0,3}} ?)?[$£€¥₹]? ?{_NUMBER} ?([KkMm]?)"
_TO = r" *(?:–|—|-|to) *"
_AMOUNTS = re.compile(rf"{_AMOUNT}(?:{_TO}{_AMOUNT})?")
_PERCENTS = re.compile(r"(\d+(?:\.\d+)?) ?%?(?:" + _TO + r"(\d+(?:\.\d+)?))? ?%")
_SCALE = {"": 1, "k": 1000, "m": 1000000}


def table_disagreements(
    guide: Guide, body: str, first_line: int, line_of: LineFinder
) -> list[Problem]:
    """Warnings where the body's pay table contradicts the frontmatter's figures.

    The table is read leniently: a row whose region is not in the frontmatter, a
    column it does not know and a cell it cannot read are passed over. A figure agrees
    when it rounds to what the table shows (175400 is '$175K'); a bonus_pct agrees
    when it lies within the table's range (10 is within '10–15%').
    """
    regions = guide.compensation
    keys = {
        "name": [region_name(r.region) for r in regions],
        "key": [region_key(r.region) for r in regions],
    }
    warnings = []
    columns: list[str | None] | None = None
    for number, line in enumerate(body.split("\n"), first_line):
        if not line.startswith("|"):
            columns = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0].casefold() == "region":
            columns = [_column(cell) for cell in cells]
            continue
        index = None if columns is None else _region_index(keys, cells[0])
        if columns is None or index is None:
            continue
        region = regions[index]
        for name, cell in zip(columns[1:], cells[1:], strict=False):
            figure = None if name is None else _disagreement(region, name, cell)
            if name is not None and figure is not None:
                loc = ("compensation", index, figure)
                warnings.append(
                    Problem(
                        f"{_shown(region, name)} disagrees with the body's table for "
                        f"{region.region} on line {number}: {cell}",
                        field_path(loc),
                        line_of(loc),
                    )
                )
    return warnings


def _column(header: str) -> str | None:
    header = header.casefold()
    for name, words in (
        ("signing_bonus", ("signing", "sign-on")),
        ("base", ("base",)),
        ("stock", ("stock", "rsu", "equity", "option")),
        ("bonus", ("bonus",)),
        ("total_comp", ("total",)),
    ):
        if any(word in header for word in words):
            return name
    return None


def _region_index(keys: dict[str, list[str]], name: str) -> int | None:
    """The frontmatter region a table row names: by name, else by a looser key."""
    for key, known in ((region_name, keys["name"]), (region_key, keys["key"])):
        wanted = key(name)
        if known.count(wanted) == 1:
            return known.index(wanted)
    return None


def _disagreement(region: Region, name: str, cell: str) -> str | None:
    """The field that disagrees with a table cell, or None."""
    if name == "bonus" and region.bonus_pct is not None:
        match = _PERCENTS.fullmatch(cell)
        if match is None:
            return None
        low, high = Decimal(match[1]), Decimal(match[2] or match[1])
        return None if low <= Decimal(str(region.bonus_pct)) <= high else "bonus_pct"
    match = _AMOUNTS.fullmatch(cell)
    if match is None or "%" in cell:
        return None
    low, low_tolerance = _amount(match[1], match[2])
    high, high_tolerance = (
        (low, low_tolerance) if match[3] is None else _amount(match[3], match[4])
    )
    for end, shown, tolerance in (
        ("low", low, low_tolerance),
        ("high", high, high_tolerance),
    ):
        value = getattr(region, f"{name}_{end}", None)
        if value is not None and abs(value - shown) > tolerance:
            return f"{name}_{end}"
    return None


def _amount(number: str, scale: str) -> tuple[Decimal, Decimal]:
    """A table figure and half its last shown digit: '$82.5K' is 82500 give or take
    50."""
    value = Decimal(number.replace(",", ""))
    factor = _SCALE[scale.casefold()]
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return value * factor, Decimal(1).scaleb(exponent) * factor / 2


def _shown(region: Region, name: str) -> str:
    if name == "bonus" and region.bonus_pct is not None:
        return f"bonus_pct {region.bonus_pct}"
    low, high = (
        getattr(region, f"{name}_low", None),
        getattr(region, f"{name}_high", None),
    )
    return f"{name} {low}–{high}"
