"""Which example does a token sign?

- a ``token`` property signs the other properties of its object;
- a header token in an http block signs that block's body (wrapped in ``payload``), or, when the
  block has no body, the nearest preceding example in the same section that is not another
  request's body;
- a body-token block or a bare "Sample token" block signs the nearest preceding example in the
  same section;
- nothing is signed across a JSON example that does not parse: a token after a broken example
  signs nothing (it is the broken example's token, not the one before);
- a token in a table row signs the example of that row (whichever cell comes first), or nothing;
- a token mentioned in prose signs nothing.
"""

from __future__ import annotations

from .samples import Example, Extraction, Token


def pair(extraction: Extraction) -> dict[int, Example | None]:
    """id(token) -> the example it signs, or None."""
    pairs: dict[int, Example | None] = {}
    for token in extraction.tokens:
        if token.owner is not None:
            pairs[id(token)] = token.owner
        elif token.place == "prose":
            pairs[id(token)] = None
        elif token.where.row:
            pairs[id(token)] = _same_row(extraction.examples, token)
        else:
            body = None
            if token.place == "header" and token.request is not None:
                body = next((e for e in extraction.examples if e.request is token.request), None)
            pairs[id(token)] = body or _nearest_before(extraction, token)
    return pairs


def _nearest_before(extraction: Extraction, token: Token) -> Example | None:
    best = None
    for example in extraction.examples:
        if example.span.end > token.span.start:
            break
        if example.where.section != token.where.section or example.token_holder:
            continue
        if example.response:
            continue
        if token.place == "header" and example.request is not None and example.request is not token.request:
            continue  # the body of another request: this request's token does not sign it
        best = example
    after = best.span.end if best is not None else -1
    if any(
        fault.where.section == token.where.section and after <= fault.span.start < token.span.start
        for fault in extraction.faults
    ):
        return None
    return best


def _same_row(examples: list[Example], token: Token) -> Example | None:
    return next(
        (e for e in examples if e.where.block == token.where.block and not e.token_holder and not e.response), None
    )
