"""``python -m bench.load`` reports what issue 4 asks for, in its last line, for the issues it loaded."""

from __future__ import annotations

import json

import pytest

from app.pipeline.native import compiled_modules
from bench import load


def test_the_last_line_is_one_json_object_with_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert load.main(["--issues", "250", "--batch", "100"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    for key in ("issues", "wall_s", "issues_per_s", "rows", "peak_rss_mb", "compiled"):
        assert key in result, key
    assert result["issues"] == 250
    assert result["quarantined"] == 0
    assert result["rows_by_table"]["issues"] == 250 == result["warehouse_counts"]["issues"]
    assert result["rows"] == sum(result["rows_by_table"].values()) > 250
    assert result["issues_per_s"] > 0 and result["peak_rss_mb"] > 0
    assert result["compiled"] == compiled_modules()
