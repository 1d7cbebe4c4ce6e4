"""Where a run keeps what it remembers between runs: the cache's default folder and its file's
name. Nothing is imported here: the command reads them first thing, to tell from a stat whether a
run is likely warm (``standby``), before anything heavy is imported."""

DEFAULT_CACHE = ".oo-jwt-cache"  # the cache folder of `check` without --cache-dir
CACHE_FILE = "findings-v2.json"  # the cache's file in its folder (``cache``)
CACHE_JOURNAL = "findings-v2.journal"  # what the runs since it was written changed (``cache``)
