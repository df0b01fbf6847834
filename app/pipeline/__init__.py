"""Extract, transform, validate and load stages (plain functions over plain data)."""

from app.pipeline.native import check_fresh

# The transform's hot modules may be compiled (``setup.py``): refuse to run compiled code older than its
# source, which Python would otherwise import silently instead of the edited ``.py``.
check_fresh()
