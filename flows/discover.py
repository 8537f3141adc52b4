"""Find the guide files under the seeds folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def discover(root: Path) -> list[Path]:
    """Every ``*.md`` file under ``root``, in a stable order.

    Hidden folders are passed over, and so is a link that leads outside ``root``: a
    seeds folder never makes compfeed read files it does not hold.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"seeds folder not found: {root}")
    top = root.resolve()
    # Only a link can lead outside the folder, since rglob does not descend into
    # linked folders; resolving every path would cost a system call per part.
    return sorted(p for p in _walk(root) if not p.is_symlink() or _inside(p, top))


def _walk(root: Path) -> Iterator[Path]:
    # rglob does not descend into linked folders, so a link can only lead to a file.
    for path in root.rglob("*.md"):
        if "/." in f"/{relative_name(path, root)}":
            continue  # in a hidden folder, or hidden itself
        if path.is_file():
            yield path
        elif path.is_symlink() and not path.exists():
            log.warning("%s: a link that leads nowhere; not read", path)
        elif not path.is_dir():
            # A pipe or a device would block or never end: it is never opened.
            log.warning("%s: not a regular file; not read", path)


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
