"""Build hook: compiles the transform's hot modules with mypyc (everything else is in pyproject.toml).

``KAIRUS_COMPILE=0`` builds pure Python instead, and removes compiled files an earlier build left next to
the sources. See ``app/pipeline/native.py`` for which modules and why.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
PIPELINE = ROOT / "app" / "pipeline"

# Loaded by path: importing the package would run its freshness check against the old build.
_spec = importlib.util.spec_from_file_location("_kairus_native", PIPELINE / "native.py")
assert _spec is not None and _spec.loader is not None
native = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(native)

manifest = PIPELINE / native.MANIFEST
sources = [PIPELINE / f"{name}.py" for name in native.COMPILED]
ext_modules = []
if os.environ.get("KAIRUS_COMPILE", "1") != "0":
    from mypyc.build import mypycify

    manifest.write_text(json.dumps({p.stem: native.source_hash(p) for p in sources}, indent=1) + "\n")
    ext_modules = mypycify([str(p.relative_to(ROOT)) for p in sources], opt_level="3")
else:
    for name in native.COMPILED:
        extension = native.extension_of(name, PIPELINE)
        if extension is not None:
            extension.unlink()
    manifest.unlink(missing_ok=True)

setup(ext_modules=ext_modules)
