"""Files in a landing folder, and which of them a pipeline has already loaded.

A managed file exchange re-delivers files: a drop is identified by its content
hash, so a file dropped twice (under any name) is loaded once, and a changed file
under an old name is loaded again (and merged on its primary key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path


class UnsafeFileName(ValueError):
    """A file name that would resolve outside its landing folder."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    sha256: str


def new_files(folder: Path, pattern: str, loaded: MutableMapping[str, str]) -> Iterator[LandedFile]:
    """Yield files matching `pattern` whose content is not yet in `loaded` (hash -> name).

    `loaded` is the pipeline's state: the caller records a file in it only when
    the file's rows have been handed to dlt, so the state commits with the load.
    """
    for path in sorted(folder.glob(pattern)):
        safe = safe_path(folder, path.name)
        with safe.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if digest not in loaded:
            yield LandedFile(safe, digest)


def safe_path(folder: Path, name: str) -> Path:
    """Resolve `name` inside `folder`, refusing anything that escapes it."""
    root = folder.resolve()
    candidate = (root / name).resolve()
    if candidate.parent != root or name in {"", ".", ".."}:
        raise UnsafeFileName(f"refused file name {name!r}: it escapes {root}")
    return candidate
