"""Pausing Python's cyclic garbage collector around CPU-bound stages that build acyclic data.

The transform, the checks and the Arrow conversion allocate about a million dicts, lists and strings per
1,000 issues, none of them in a reference cycle. Each allocation counts towards the collector's next run,
and every run walks all tracked objects of its generations, the batch's raw issues and rows included, to
find cycles that are not there: a fifth of the pipeline's CPU time (``python -m bench.load``). Paused,
their memory is still freed by reference counting as usual; cycles made meanwhile elsewhere in the process
wait for the next collection after the stage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (also usable as a decorator).

    Nested or concurrent pauses are safe: only the pause that found the collector enabled enables it
    again, so the collector is never left off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
