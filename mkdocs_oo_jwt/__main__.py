"""``python -m mkdocs_oo_jwt``: the ``oo-jwt`` command."""

from .cli import script

script()
