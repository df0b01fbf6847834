"""``python -m simulator --issues 5000 --seed 7 --port 8081 [...]``: serve a simulated Jira site."""

from __future__ import annotations

import argparse
import time
from dataclasses import fields

import uvicorn

from simulator.app import create_app
from simulator.config import SimConfig


def parse_args(argv: list[str] | None = None) -> tuple[SimConfig, str, int]:
    """CLI flags: one per ``SimConfig`` field (``--latency-ms``), plus ``--host`` and ``--port``."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    defaults = SimConfig()
    for f in fields(SimConfig):
        default = getattr(defaults, f.name)
        kind = {int: int, float: float}.get(type(default), str)
        if f.name in ("rate", "burst"):
            kind = float
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=default)
    ns = vars(parser.parse_args(argv))
    host, port = ns.pop("host"), ns.pop("port")
    return SimConfig(**ns), host, port


def main(argv: list[str] | None = None) -> None:
    """Generate the site and serve it until interrupted."""
    config, host, port = parse_args(argv)
    t0 = time.perf_counter()
    app = create_app(config, base_url=f"http://{host}:{port}")
    print(
        f"simulator: {config.issues} issues (seed {config.seed}, {config.mode}) generated in "
        f"{time.perf_counter() - t0:.2f}s; serving http://{host}:{port}",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
