"""One module per family of rules; each ``check(ctx)`` yields findings."""

from . import flow_choice, json_syntax, request, schema, token, unread

FAMILIES = (unread, json_syntax, schema, token, request, flow_choice)
