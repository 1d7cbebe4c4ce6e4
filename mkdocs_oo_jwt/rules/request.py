"""request-mismatch: the request path or Host disagrees with the url the token signs."""

from __future__ import annotations

from urllib.parse import unquote

from ..extract.code import request_path_host, url_parts
from ..tokens import Malformed, decode
from .base import PageCheck


def check(ctx: PageCheck):
    for token in ctx.extraction.tokens:
        request, flow = token.request, ctx.flow_of(token)
        if request is None or request.is_response or flow is None or flow.opaque or token.placeholder:
            continue
        if request.method != "GET" and "GET" not in flow.methods:
            continue
        try:
            payload = decode(token.text).payload
        except Malformed:
            continue
        signed = payload.get("payload", payload) if isinstance(payload.get("payload"), dict) else payload
        url = signed.get("url")
        if not isinstance(url, str):
            continue
        want = url_parts(url)
        path, host = request_path_host(request)
        if path and want.path and not _same_path(path, want.path):
            yield ctx.finding(
                "request-mismatch", request.span,
                f"{request.method} path {path!r} disagrees with the url the token signs ({want.path!r})",
                flow, "/payload/url" if signed is not payload else "/url",
            )
        header = request.header("Host")
        if host and want.netloc and host.lower() != want.netloc.lower():
            span = header.line if header else request.span
            yield ctx.finding(
                "request-mismatch", span,
                f"Host {host!r} disagrees with the url the token signs ({want.netloc!r})",
                flow, "/payload/url" if signed is not payload else "/url",
            )


def _same_path(written: str, signed: str) -> bool:
    """``GET url-to-file.docx`` (relative, as docs write it) matches a signed ``/url-to-file.docx``;
    the same characters match however they are written (``%20`` on the request line, a space in
    the url as a writer types it: a client sends it percent-encoded)."""
    written, signed = unquote(written).lstrip("/"), unquote(signed).lstrip("/")
    return written == signed or signed.endswith("/" + written)
