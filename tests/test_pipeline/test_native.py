"""The compiled transform modules (setup.py, mypyc): built in CI, and never run older than their source."""

from __future__ import annotations

import json
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from app.pipeline import native
from app.pipeline.native import COMPILED, MANIFEST, check_fresh, compiled_modules, source_hash, stale_modules

ROOT = Path(__file__).resolve().parents[2]


def _package(tmp_path: Path, *, compiled: bool, recorded: bool = True) -> Path:
    """A stand-in for app/pipeline: the sources, their extensions when ``compiled``, and the manifest."""
    for name in COMPILED:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
        if compiled:
            (tmp_path / f"{name}{EXTENSION_SUFFIXES[0]}").write_bytes(b"\x7fELF")
    if recorded:
        hashes = {name: source_hash(tmp_path / f"{name}.py") for name in COMPILED}
        (tmp_path / MANIFEST).write_text(json.dumps(hashes))
    return tmp_path


def test_a_fresh_build_passes_the_check(tmp_path: Path) -> None:
    pkg = _package(tmp_path, compiled=True)
    assert compiled_modules(pkg) == list(COMPILED)
    assert stale_modules(pkg) == []
    check_fresh(pkg)


def test_a_source_edited_after_the_build_is_refused_with_the_fix(tmp_path: Path) -> None:
    pkg = _package(tmp_path, compiled=True)
    (pkg / "transform.py").write_text("# edited\n")
    assert stale_modules(pkg) == ["transform"]
    with pytest.raises(ImportError, match=r"app/pipeline/transform\.py changed after it was compiled") as exc:
        check_fresh(pkg)
    assert "make install" in str(exc.value)


def test_compiled_code_without_a_recorded_hash_counts_as_stale(tmp_path: Path) -> None:
    pkg = _package(tmp_path, compiled=True, recorded=False)
    assert stale_modules(pkg) == list(COMPILED)
    (pkg / MANIFEST).write_text("not json")
    assert stale_modules(pkg) == list(COMPILED)


def test_pure_python_needs_no_build_record(tmp_path: Path) -> None:
    pkg = _package(tmp_path, compiled=False, recorded=False)
    assert compiled_modules(pkg) == []
    check_fresh(pkg)


def test_the_makefile_rebuilds_when_a_compiled_source_changes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for name in (*COMPILED, "native"):
        assert f"app/pipeline/{name}.py" in makefile


def test_the_installed_transform_runs_compiled_and_fresh() -> None:
    """CI installs with ``make test``, which compiles: the suite then tests the code that ships."""
    here = Path(native.__file__).resolve().parent
    if compiled_modules(here) != list(COMPILED):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the compiled transform; compiled here: {compiled_modules(here)}")
        pytest.skip("installed without compiling (make pure / KAIRUS_COMPILE=0)")
    import app.pipeline.adf
    import app.pipeline.transform

    for module in (app.pipeline.adf, app.pipeline.transform):
        assert Path(str(module.__file__)).suffix == ".so"
    assert stale_modules(here) == []
