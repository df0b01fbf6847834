"""Create or upgrade the metadata database to the newest migration (same code as `python -m app init-db`).

Usage: python scripts/init_db.py [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Runnable as a plain script from any directory: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["init-db", *sys.argv[1:]]))
