"""From a file's bytes to a validated guide and its body, or a verdict saying why not.

Decoding, the frontmatter split and the YAML load each report their failure as a
problem with a line; nothing here raises for bad input.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import ftfy
import yaml
from frontmatter.default_handlers import YAMLHandler
from ftfy.badness import is_bad

from flows.guide import Guide, LineFinder, validate_guide
from flows.verdict import FileResult, Outcome, Problem

log = logging.getLogger(__name__)

_HANDLER = YAMLHandler()


class GuideLoader(yaml.CSafeLoader):
    """PyYAML's safe loader (libyaml's parser: four times faster here), refusing
    duplicate keys instead of keeping the last."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in first:
                raise yaml.constructor.ConstructorError(
                    "first written",
                    first[key],
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            first[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


@dataclass
class ParsedGuide:
    path: str
    guide: Guide
    body: str
    warnings: list[Problem] = field(default_factory=list)


def parse_guide(path: str, data: bytes) -> ParsedGuide | FileResult:
    """Parse one file. Returns the guide, or a skipped or rejected verdict."""
    warnings: list[Problem] = []
    text = _decode(data)
    if isinstance(text, Problem):
        return FileResult(path, Outcome.REJECTED, errors=[text])
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    if not _HANDLER.detect(text):
        return FileResult(
            path, Outcome.SKIPPED, warnings=[Problem("no frontmatter: not a guide")]
        )
    boundary = _HANDLER.FM_BOUNDARY
    assert boundary is not None
    opening = boundary.match(text)
    parts = boundary.split(text, 2)
    if opening is None or len(parts) < 3:
        return _rejected(
            path, Problem("frontmatter is not closed by a '---' line", line=1)
        )
    _, block, body = parts
    first_line = text[: opening.end()].count("\n") + 1

    loaded = _load_yaml(block, first_line)
    if isinstance(loaded, Problem):
        return _rejected(path, loaded)
    metadata, root = loaded
    if metadata is None:
        return _rejected(path, Problem("frontmatter is empty", line=first_line))
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        return _rejected(
            path, Problem(f"frontmatter must be a mapping, not a {kind}", line=1)
        )

    guide, errors = validate_guide(metadata, LineFinder(root, first_line))
    if guide is None:
        result = FileResult(path, Outcome.REJECTED, errors=errors)
        if "company" in metadata and "role" in metadata:
            result.guide = f"{metadata['company']}/{metadata['role']}"
        return result

    # The body's first line is the rest of the closing '---' line.
    body_line = first_line + block.count("\n")
    body, repairs = repair_mojibake(body, body_line)
    warnings.extend(repairs)
    return ParsedGuide(path, guide, normalise_body(body), warnings)


def _rejected(path: str, problem: Problem) -> FileResult:
    return FileResult(path, Outcome.REJECTED, errors=[problem])


def _decode(data: bytes) -> str | Problem:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            return Problem(f"not valid UTF-16 at byte {exc.start}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(f"not valid UTF-8 at byte {exc.start}")


def _load_yaml(block: str, first_line: int) -> tuple[Any, Any] | Problem:
    """The loaded frontmatter and its node tree, or the YAML error with its line."""
    loader = GuideLoader(block)
    try:
        root = loader.get_single_node()
        metadata = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = None if mark is None else first_line + mark.line
        reason = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark is not None:
            reason += f" ({exc.context} on line {first_line + exc.context_mark.line})"
        return Problem(f"invalid YAML: {reason}", line=line)
    except yaml.YAMLError as exc:
        return Problem(f"invalid YAML: {exc}")
    finally:
        loader.dispose()
    return metadata, root


# Every multi-byte UTF-8 sequence starts with a byte from C2 to F4, which Windows-1252
# and Latin-1 show as U+00C2..U+00F4: a line without one holds no such mojibake, and
# the costlier checks are spared.
_UTF8_LEAD_AS_LATIN = re.compile("[\u00c2-\u00f4]")


def repair_mojibake(body: str, first_line: int) -> tuple[str, list[Problem]]:
    """Undo text that was decoded with the wrong codec, with a warning naming the lines.

    Only UTF-8 read as Windows-1252 or Latin-1 is looked for, and only encoding
    repairs are made (no quote or width changes). Where bytes were lost
    on the way, the text cannot be restored exactly; it is kept as written and named.
    """
    lines = body.split("\n")
    repaired, lost = [], []
    for number, line in enumerate(lines):
        if not _UTF8_LEAD_AS_LATIN.search(line):
            continue
        fixed = ftfy.fix_encoding(line)
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


def _lines(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"on line {numbers[0]}"
    return "on lines " + ", ".join(map(str, numbers))


def normalise_body(body: str) -> str:
    """Line endings, trailing blanks and surrounding blank lines carry no meaning."""
    lines = [line.rstrip() for line in body.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"
