"""Whether this process may fork: the platform has ``fork``, and no other thread runs (a fork
copies no other thread, nor the locks they hold, which could then never be released)."""

from __future__ import annotations

import os
import sys


def fork_is_safe() -> bool:
    threading = sys.modules.get("threading")  # never imported: no other thread
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)
