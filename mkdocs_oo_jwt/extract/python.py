"""Python HTTP calls with a body (``requests``, ``httpx``), read with tree-sitter-python.

``requests.post(url, json={...}, headers={"Authorization": "Bearer <jwt>"})``, ``data=json.dumps({...})``,
``requests.request("POST", url, ...)``, ``httpx.post(...)``: each is a request, as an http block
or a curl command is. The method comes from the function (or the first argument of ``request``);
the target from a string literal, an f-string's text or a name assigned a string above the call;
the headers from a dict literal or a name assigned one; the body from a dict literal (or a name
assigned one) given as ``json=``, or dumped with ``json.dumps`` as ``data=``/``content=``.

The body is an example with the exact span of every value: ``True``/``False``/``None`` are JSON's
true/false/null; a value written as an expression (``doc.key``, an f-string with a field) is
present with an unknown value, as the JS reader has it; a ``**rest`` or an ``...`` (or a comment
that holds one) leaves its object or list open. Its ``token`` member and the Authorization
header's token are found as the JSON and HTTP readers find them (``BlockScanner.add_json`` and
``BlockScanner.add_authorization`` do it for all three).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..model import UNKNOWN
from ..samples import Header, Request
from .jsondoc import ELISION, JsonDoc, pointer_token
from .treesitter import char_offsets, parser

if TYPE_CHECKING:
    from .code import BlockScanner

CLIENTS = {"requests", "httpx"}
VERBS = {"get", "post", "put", "patch", "delete", "head", "options"}
BODY_KEYWORDS = ("json", "data", "content")  # json= takes the object; data= and content= its json.dumps


class PythonScanner:
    def __init__(self, scanner: "BlockScanner"):
        self.s = scanner
        self.sent: set[tuple[str, int]] = set()  # the bodies and header values already found

    def scan(self) -> None:
        text = self.s.source
        if not any(client in text for client in CLIENTS):
            return
        self.data = text.encode("utf-8")
        self.char = char_offsets(text, self.data)
        root = parser("python").parse(self.data).root_node
        self.assigned: dict[str, list[Any]] = {}  # name -> the values assigned to it, in order
        calls = []
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "assignment":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and right is not None and left.type == "identifier":
                    self.assigned.setdefault(self.text_of(left), []).append(right)
            elif node.type == "call" and self.verb(node) is not None:
                calls.append(node)
            stack.extend(reversed(node.children))
        for values in self.assigned.values():
            values.sort(key=lambda n: n.start_byte)
        for call in sorted(calls, key=lambda n: n.start_byte):
            self.call(call)

    # -- the call --------------------------------------------------------------------------------
    def verb(self, call) -> str | None:
        """"post", "get"... or "request" for ``requests.post(...)``, ``httpx.request(...)``."""
        function = call.child_by_field_name("function")
        if function is None or function.type != "attribute":
            return None
        client, name = function.child_by_field_name("object"), function.child_by_field_name("attribute")
        if client is None or name is None or self.text_of(client) not in CLIENTS:
            return None
        verb = self.text_of(name)
        return verb if verb in VERBS or verb == "request" else None

    def call(self, call) -> None:
        arguments = call.child_by_field_name("arguments")
        if arguments is None:
            return
        positional = [a for a in arguments.named_children if a.type not in ("keyword_argument", "comment")]
        keywords = {}
        for argument in arguments.named_children:
            if argument.type == "keyword_argument":
                name, value = argument.child_by_field_name("name"), argument.child_by_field_name("value")
                if name is not None and value is not None:
                    keywords[self.text_of(name)] = value
        verb = self.verb(call)
        if verb == "request":
            method_node = positional.pop(0) if positional else keywords.get("method")
            method = self.string(self.resolve(method_node, call)) if method_node is not None else None
            if not method:
                return
        else:
            method = verb or ""
        url = positional[0] if positional else keywords.get("url")
        headers_node = self.resolve(keywords.get("headers"), call)
        body = self.body(keywords, call)
        auth = self.headers(headers_node) if headers_node is not None and headers_node.type == "dictionary" else []
        if body is None and not any(h.name.lower() == "authorization" for h, _ in auth):
            return  # nothing to check: no body, no token
        request = Request(method.upper(), self.target(url, call), self.span(call), [h for h, _ in auth])
        for header, content in auth:  # a headers dict shared by two calls: its token is found once
            if header.name.lower() == "authorization" and content is not None and self.first(("header", content)):
                self.s.add_authorization(request, header.value, content)
        if body is not None and self.first(("body", body.start_byte)):  # so is a body shared by two calls
            self.example(body, request, call)
        self.s.lead = []

    def first(self, key: tuple[str, int]) -> bool:
        """Is this the first call that sends the value at ``key``? (then it is found; else it was)"""
        if key in self.sent:
            return False
        self.sent.add(key)
        return True

    def body(self, keywords: dict, call):
        """The dict literal sent as the JSON body, if any."""
        for keyword in BODY_KEYWORDS:
            node = self.resolve(keywords.get(keyword), call)
            if node is None:
                continue
            if keyword != "json":  # data=json.dumps({...}): the string the object is dumped to
                if node.type != "call" or self.text_of(node.child_by_field_name("function")) != "json.dumps":
                    continue
                arguments = node.child_by_field_name("arguments")
                first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
                node = self.resolve(first, call)
            if node is not None and node.type == "dictionary":
                return node
        return None

    def target(self, node, call) -> str:
        """The url as written: a string literal, an f-string's text, or a name assigned one above."""
        node = self.resolve(node, call)
        if node is None or node.type != "string":
            return ""
        literal = self.string(node)
        return literal if literal is not None else self.string_text(node)

    def headers(self, node) -> list[tuple[Header, int | None]]:
        """The dict's string-valued headers, each with the offset of its value's first character on
        the page when the value is written there as it is (no escapes: the token can be located)."""
        out = []
        for pair in node.named_children:
            if pair.type != "pair":
                continue
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            name = self.string(key) if key is not None and key.type == "string" else None
            literal = self.string(value) if value is not None and value.type == "string" else None
            if name is None or literal is None:
                continue
            content, span = None, self.span(value)
            if self.string_text(value) == literal:
                start = self.char(value.start_byte) + len(self.prefix(value))
                content, span = start, self.s.span(start, start + len(literal))
            out.append((Header(name, literal, self.span(pair), span), content))
        return out

    def example(self, node, request: Request, call) -> None:
        spans: dict[str, tuple[int, int]] = {}
        keys: dict[str, tuple[int, int]] = {}
        duplicates: list[str] = []
        unknown: set[str] = set()
        opened: set[str] = set()
        value = self.value(node, "", spans, keys, duplicates, unknown, opened)
        doc = JsonDoc(value, self.char(node.start_byte), self.char(node.end_byte), spans, keys, duplicates)
        self.s.add_json(
            doc, "python-body", request, frozenset(opened), unknown=frozenset(unknown),
            raw_range=(self.char(call.start_byte), self.char(call.end_byte)),
        )

    # -- values --------------------------------------------------------------------------------
    def value(self, node, pointer: str, spans, keys, duplicates, unknown: set, opened: set) -> Any:
        spans[pointer] = (self.char(node.start_byte), self.char(node.end_byte))
        kind = node.type
        if kind == "parenthesized_expression" and len(node.named_children) == 1:
            return self.value(node.named_children[0], pointer, spans, keys, duplicates, unknown, opened)
        if kind == "dictionary":
            out: dict[str, Any] = {}
            for child in node.named_children:
                if child.type == "pair":
                    key = child.child_by_field_name("key")
                    name = self.string(key) if key is not None and key.type == "string" else None
                    if name is None:  # a key written as an expression: something else is there
                        opened.add(pointer)
                        continue
                    child_pointer = f"{pointer}/{pointer_token(name)}"
                    if name in out:
                        duplicates.append(child_pointer)
                    keys[child_pointer] = (self.char(key.start_byte), self.char(key.end_byte))
                    out[name] = self.value(child.child_by_field_name("value"), child_pointer, spans, keys, duplicates, unknown, opened)
                elif child.type == "dictionary_splat" or (child.type == "comment" and ELISION.search(self.text_of(child))):
                    opened.add(pointer)
            return out
        if kind in ("list", "tuple"):
            items = []
            for child in node.named_children:
                if child.type in ("ellipsis", "list_splat") or (child.type == "comment" and ELISION.search(self.text_of(child))):
                    opened.add(pointer)
                elif child.type != "comment":
                    items.append(self.value(child, f"{pointer}/{len(items)}", spans, keys, duplicates, unknown, opened))
            return items
        known, literal = self.literal(node)
        if known:
            return literal
        unknown.add(pointer)  # an expression (or a "..." value): present, any value
        return UNKNOWN

    def literal(self, node) -> tuple[bool, Any]:
        """(True, the JSON value) of a literal: a string, a number, True, False, None; else (False, None)."""
        kind = node.type
        if kind in ("string", "concatenated_string"):
            value = self.string(node)
            return value is not None, value
        if kind in ("integer", "float"):
            try:
                value = ast.literal_eval(self.text_of(node))
            except (ValueError, SyntaxError):
                return False, None
            return isinstance(value, (int, float)), value
        if kind in ("true", "false", "none"):
            return True, {"true": True, "false": False, "none": None}[kind]
        if kind == "unary_operator" and self.text_of(node)[:1] == "-" and node.named_children:
            known, inner = self.literal(node.named_children[-1])
            if known and isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return True, -inner
        return False, None

    # -- strings and names ---------------------------------------------------------------------
    def string(self, node) -> str | None:
        """The value of a string literal (an f-string without fields counts), or None."""
        if node is None or node.type not in ("string", "concatenated_string"):
            return None
        if any(n.type == "interpolation" for n in _descendants(node)):
            return None
        text = self.text_of(node)
        if node.type == "string" and "f" in self.letters(node).lower():  # no fields: its text
            letters = self.letters(node)
            text = letters.replace("f", "").replace("F", "") + text[len(letters) :].replace("{{", "{").replace("}}", "}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None

    def string_text(self, node) -> str:
        """The characters between a string's quotes, as written (an f-string's fields included)."""
        parts = [c for c in node.children if c.type not in ("string_start", "string_end")]
        if not parts:
            return ""
        start, end = parts[0].start_byte, parts[-1].end_byte
        return self.data[start:end].decode("utf-8", "replace")

    def prefix(self, node) -> str:
        """A string's opening: its prefix letters and quotes (``f"``, ``r'''``)."""
        opening = node.children[0] if node.children else None
        return self.text_of(opening) if opening is not None and opening.type == "string_start" else ""

    def letters(self, node) -> str:
        """A string's prefix letters (``f``, ``rb``)."""
        opening = self.prefix(node)
        return opening[: len(opening) - len(opening.lstrip("rRbBuUfF"))]

    def resolve(self, node, call):
        """A name stands for the last literal assigned to it above the call (in the block)."""
        if node is None or node.type != "identifier":
            return node
        before = [v for v in self.assigned.get(self.text_of(node), ()) if v.end_byte <= call.start_byte]
        return before[-1] if before else node

    def text_of(self, node) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def span(self, node):
        return self.s.span(self.char(node.start_byte), self.char(node.end_byte))


def _descendants(node):
    stack = list(node.children)
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)
