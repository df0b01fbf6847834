"""Which transform modules run compiled, and whether the compiled code is still that of their sources.

``setup.py`` compiles :data:`COMPILED` with mypyc (the transform's hot path: ADF flattening, value parsing
and row building run about 1.7 times faster) and records each source's SHA-256 in :data:`MANIFEST`. An
editable install puts the compiled extensions next to the sources, and Python imports an extension before
a ``.py`` of the same name: a source edited after the build would silently not run. :func:`check_fresh`,
called when ``app.pipeline`` is imported, refuses that with the command that rebuilds.

This module is plain Python (never compiled) and imports nothing of the project, so ``setup.py`` can load it
by path before anything is built.
"""

from __future__ import annotations

import hashlib
import json
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

#: Modules of ``app/pipeline`` that ``setup.py`` compiles (unless ``KAIRUS_COMPILE=0``).
COMPILED: tuple[str, ...] = ("adf", "values", "transform", "transform_dev")
#: Source hashes of the last compiling build, written by ``setup.py`` (not committed).
MANIFEST = "_compiled.json"

_HERE = Path(__file__).resolve().parent
REBUILD = "rebuild with `make install` (or `pip install -e .`), or drop the compiled code with `make pure`"


def source_hash(path: Path) -> str:
    """SHA-256 of a source file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extension_of(name: str, directory: Path = _HERE) -> Path | None:
    """The compiled extension of module ``name`` in ``directory``, if one is there."""
    for suffix in EXTENSION_SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    return None


def compiled_modules(directory: Path = _HERE) -> list[str]:
    """The modules of :data:`COMPILED` that have a compiled extension in ``directory``."""
    return [name for name in COMPILED if extension_of(name, directory) is not None]


def stale_modules(directory: Path = _HERE) -> list[str]:
    """Compiled modules whose source changed since the build (or whose build recorded no hash)."""
    try:
        recorded = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    return [
        name
        for name in compiled_modules(directory)
        if recorded.get(name) != source_hash(directory / f"{name}.py")
    ]


def check_fresh(directory: Path = _HERE) -> None:
    """Raise ImportError when a compiled module is older than its source (its edits would not run)."""
    stale = stale_modules(directory)
    if stale:
        files = ", ".join(f"app/pipeline/{name}.py" for name in stale)
        raise ImportError(f"{files} changed after it was compiled, so the edit would not run: {REBUILD}")
