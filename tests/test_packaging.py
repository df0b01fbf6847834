"""The install files agree with each other, so `pip install -r requirements.txt` gives what pyproject says."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirements(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith(("#", "-r"))]


def test_requirements_txt_matches_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _requirements("requirements.txt") == project["dependencies"]
    assert _requirements("requirements-dev.txt") == project["optional-dependencies"]["dev"]


def test_snowflake_connector_is_pinned_below_5_for_fakesnow() -> None:
    deps = _requirements("requirements.txt")
    (snowflake,) = [d for d in deps if d.startswith("snowflake-connector-python")]
    assert "<5" in snowflake


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert ci.strip().splitlines()[-1] == "make test"
