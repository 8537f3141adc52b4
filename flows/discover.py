"""Find the guide files under the seeds folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def discover(root: Path) -> list[Path]:
    """Every ``*.md`` file under ``root``, in a stable order.

    Hidden files and folders are passed over, and so is a link that leads outside
    ``root``: a seeds folder never makes compfeed read files it does not hold.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"seeds folder not found: {root}")
    # By parts, as paths compare, but without a Python call per comparison.
    return sorted(_walk(root, root.resolve()), key=lambda path: path.parts)


def _walk(root: Path, top: Path) -> Iterator[Path]:
    # A folder's entries say what each is without a system call per file, and a
    # linked folder is never entered: only a link to a file can lead outside.
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.warning("%s: cannot list this folder (%s); not read", folder, exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            if entry.is_dir(follow_symlinks=False):
                folders.append(path)
            elif entry.name.endswith(".md") and _readable(entry, path, top):
                yield path


def _readable(entry: os.DirEntry[str], path: Path, top: Path) -> bool:
    """Whether a ``*.md`` entry is a file compfeed may read; a warning says why not."""
    try:
        if entry.is_file():
            return not entry.is_symlink() or _inside(path, top)
        if entry.is_symlink() and not path.exists():
            log.warning("%s: a link that leads nowhere; not read", path)
        elif not entry.is_dir():
            # A pipe or a device would block or never end: it is never opened.
            log.warning("%s: not a regular file; not read", path)
    except OSError as exc:
        # A link that loops, or whose target cannot be looked at.
        log.warning(
            "%s: a link that cannot be followed (%s); not read", path, exc.strerror
        )
    return False


def _inside(path: Path, top: Path) -> bool:
    if path.resolve().is_relative_to(top):
        return True
    log.warning("%s: links outside the seeds folder; not read", path)
    return False


def relative_name(path: Path, root: Path) -> str:
    """How a file is named in verdicts and provenance: relative to the seeds folder."""
    # As Path.relative_to would say, from the text alone: it is called per file, and
    # pathlib takes both paths apart each time.
    text, folder = path.as_posix(), root.as_posix().rstrip("/") + "/"
    return text[len(folder) :] if text.startswith(folder) else text
