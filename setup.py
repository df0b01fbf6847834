"""Build hook: compiles the transform's hot modules with mypyc (everything else is in pyproject.toml).

``KAIRUS_COMPILE``: ``1`` compiles (and fails without a C compiler), ``0`` builds pure Python and removes
compiled files an earlier build left next to the sources, unset compiles when a C compiler and the Python
headers are there and builds pure Python otherwise. See ``app/pipeline/native.py`` for which modules and
why; ``python -m bench.load`` reports which way the transform runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sysconfig
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


def _can_compile() -> bool:
    """Whether the C compiler Python was built with and Python's headers are on this machine."""
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(compiler) is not None and headers.exists()


choice = os.environ.get("KAIRUS_COMPILE", "")
if choice == "1" or (choice != "0" and _can_compile()):
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
