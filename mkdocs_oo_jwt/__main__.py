"""``python -m mkdocs_oo_jwt``: the ``oo-jwt`` command."""

import sys

from .cli import main

sys.exit(main())
