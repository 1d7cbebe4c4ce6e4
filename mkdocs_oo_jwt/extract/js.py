"""JS/TS object literals with a ``token`` property, read with tree-sitter.

The object's other properties are the payload the token must sign. Values written as expressions
(``event.data.c``, a shorthand ``version``, a call) are present with an unknown value; a spread or
a ``// ...`` comment makes that object open. The flow comes from what the object is passed to:
``new DocsAPI.DocEditor(id, config)`` is the editor config, ``docEditor.<method>({...})`` that
method's flow, also when the object is a variable declared above and passed by name.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..samples import Example
from ..model import UNKNOWN
from .jsondoc import ELISION, pointer_token
from .treesitter import char_offsets, parser

if TYPE_CHECKING:
    from .code import BlockScanner

_WRAPPERS = {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}


def _parse(grammar: str, text: str, data: bytes, openers: str):
    """The tree of ``data`` (``text`` encoded), and 1 if it was read as ``(data)``: a bare object
    (a text starting with one of ``openers``) that does not parse as a statement, as an expression."""
    tree = parser(grammar).parse(data)
    if tree.root_node.has_error and text.lstrip()[:1] in tuple(openers):
        wrapped = parser(grammar).parse(b"(" + data + b")")
        if not wrapped.root_node.has_error:  # a bare object: read it as an expression
            return wrapped, 1
    return tree, 0


def grammar_for(lang: str) -> str:
    if lang == "tsx":
        return "tsx"
    if lang in ("ts", "typescript"):
        return "typescript"
    return "javascript"


class JsScanner:
    def __init__(self, scanner: "BlockScanner", lang: str):
        self.s = scanner
        self.grammar = grammar_for(lang)

    def scan(self) -> None:
        text = self.s.source
        if "token" not in text and "\\" not in text:
            return  # no object here can have a token property (a key written with escapes has a backslash)
        data = text.encode("utf-8")
        tree, shift = _parse(self.grammar, text, data, "{[")
        offset = char_offsets(text, data)
        size = len(data)
        self.char = lambda b: offset(min(max(b - shift, 0), size))
        self.data = b"(" * shift + data
        root = tree.root_node
        for node in _objects(root):
            self.object(node, root)

    def text_of(self, node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def object(self, node, root) -> None:
        token_pair = None
        for child in node.named_children:
            if child.type == "pair" and self.key(child) == "token":
                token_pair = child
        if token_pair is None:
            return
        value_node = _unwrap(token_pair.child_by_field_name("value"))
        literal = self.string(value_node) if value_node is not None else None
        if literal is None:
            return  # token: someExpression() -> not a sample token
        spans: dict[str, tuple[int, int]] = {}
        unknown: set[str] = set()
        opened: set[str] = set()
        value = self.value(node, "", spans, unknown, opened, skip=token_pair)
        where = self.s.here()
        example = Example(
            self.s.span(self.char(node.start_byte), self.char(node.end_byte)),
            value,
            {p: self.s.span(self.char(a), self.char(b)) for p, (a, b) in spans.items()},
            where,
            "js",
            token_holder=True,
            open=frozenset(opened),
            unknown=frozenset(unknown),
            flow_hint=self.flow_hint(node, root),
        )
        self.s.out.examples.append(example)
        start, end = self.char(value_node.start_byte) + 1, self.char(value_node.end_byte) - 1
        self.s.add_token(start, max(start, end), "property", owner=example)

    def key(self, pair) -> str | None:
        key = pair.child_by_field_name("key")
        if key is None:
            return None
        if key.type in ("property_identifier", "number"):
            return self.text_of(key)
        if key.type == "string":
            return self.string(key)
        return None  # computed key

    def string(self, node) -> str | None:
        if node.type == "string":
            try:
                value = ast.literal_eval(self.text_of(node))
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, str) else None
        if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children):
            return self.text_of(node)[1:-1]
        return None

    def value(self, node, pointer: str, spans, unknown: set, opened: set, skip=None) -> Any:
        node = _unwrap(node)
        spans[pointer] = (node.start_byte, node.end_byte)
        kind = node.type
        if kind == "object":
            out: dict[str, Any] = {}
            for child in node.named_children:
                if child is skip or (skip is not None and child.id == skip.id):
                    continue
                if child.type == "pair":
                    name = self.key(child)
                    if name is None:
                        opened.add(pointer)
                        continue
                    out[name] = self.value(child.child_by_field_name("value"), f"{pointer}/{pointer_token(name)}", spans, unknown, opened)
                elif child.type == "shorthand_property_identifier":
                    name = self.text_of(child)
                    child_pointer = f"{pointer}/{pointer_token(name)}"
                    spans[child_pointer] = (child.start_byte, child.end_byte)
                    unknown.add(child_pointer)
                    out[name] = UNKNOWN
                elif child.type == "method_definition":
                    name_node = child.child_by_field_name("name")
                    if name_node is not None:
                        name = self.text_of(name_node)
                        unknown.add(f"{pointer}/{pointer_token(name)}")
                        out[name] = UNKNOWN
                elif child.type == "spread_element" or (child.type == "comment" and ELISION.search(self.text_of(child))):
                    opened.add(pointer)
            return out
        if kind == "array":
            items = []
            for child in node.named_children:
                if child.type == "spread_element" or (child.type == "comment" and ELISION.search(self.text_of(child))):
                    opened.add(pointer)
                elif child.type != "comment":
                    items.append(self.value(child, f"{pointer}/{len(items)}", spans, unknown, opened))
            return items
        literal = self.literal(node)
        if literal is not _NOT_LITERAL:
            return literal
        unknown.add(pointer)
        return UNKNOWN

    def literal(self, node) -> Any:
        kind = node.type
        if kind in ("string", "template_string"):
            value = self.string(node)
            return _NOT_LITERAL if value is None else value
        if kind == "number":
            text = self.text_of(node).replace("_", "")
            try:
                return int(text, 0)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    return _NOT_LITERAL
        if kind in ("true", "false"):
            return kind == "true"
        if kind == "null":
            return None
        if kind == "unary_expression" and self.text_of(node)[:1] == "-" and node.named_children:
            inner = self.literal(node.named_children[-1])
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
        return _NOT_LITERAL

    def flow_hint(self, node, root) -> str | None:
        """The flow named by the call the object is passed to (directly or through a variable)."""
        hint = self.call_of(node)
        if hint:
            return hint
        holder = node.parent
        while holder is not None and holder.type in _WRAPPERS:
            holder = holder.parent
        name = None
        if holder is not None and holder.type == "variable_declarator":
            name_node = holder.child_by_field_name("name")
            name = self.text_of(name_node) if name_node is not None else None
        elif holder is not None and holder.type == "assignment_expression":
            left = holder.child_by_field_name("left")
            name = self.text_of(left) if left is not None and left.type == "identifier" else None
        if not name:
            return None
        stack = [root]
        while stack:
            current = stack.pop()
            if current.type == "identifier" and self.text_of(current) == name and current.parent is not None and current.parent.type == "arguments":
                hint = self.call_of(current)
                if hint:
                    return hint
            stack.extend(current.children)
        return None

    def call_of(self, node) -> str | None:
        parent = node.parent
        while parent is not None and parent.type in _WRAPPERS:
            node, parent = parent, parent.parent
        if parent is None or parent.type != "arguments" or parent.parent is None:
            return None
        call = parent.parent
        if call.type == "new_expression":
            ctor = call.child_by_field_name("constructor")
            if ctor is not None and self.text_of(ctor).split(".")[-1] == "DocEditor":
                return "editor-config"
        if call.type == "call_expression":
            function = call.child_by_field_name("function")
            if function is not None and function.type == "member_expression":
                prop = function.child_by_field_name("property")
                if prop is not None:
                    return self.text_of(prop)
        return None


class _NotLiteral:
    pass


_NOT_LITERAL = _NotLiteral()


def _unwrap(node):
    while node is not None and node.type in _WRAPPERS and node.named_children:
        node = node.named_children[0]
    return node


def read_object(text: str, lang: str = "js") -> tuple[Any, frozenset[str], frozenset[str], str | None, str | None] | None:
    """The config object literal of a JS/TS text (see below which), read as the scanner reads a config:
    (its value without a ``token`` property, the pointers of its open objects, those of its values
    written as expressions, the flow the call it is passed to names, its ``token`` string if it
    has one); None when the text holds no object literal or does not parse. ``oo-jwt inspect
    --against`` reads a config file with it, token or not."""
    reader = JsScanner(None, lang)  # type: ignore[arg-type] - only its value reading is used
    data = text.encode("utf-8")
    tree, shift = _parse(reader.grammar, text, data, "{")
    if tree.root_node.has_error:
        return None  # a file to compare with is read whole, or not at all
    reader.data = b"(" * shift + data
    root = tree.root_node
    objects = [(node, reader.flow_hint(node, root), _token_pair(reader, node)) for node in _objects(root)]
    # the config: the object passed to a call that names a flow (new DocsAPI.DocEditor(id, config)),
    # else the first that holds a token, else the first (a file that declares other objects first)
    chosen = next((o for o in objects if o[1]), None) or next((o for o in objects if o[2] is not None), None) or (
        objects[0] if objects else None)
    if chosen is None:
        return None
    node, hint, token_pair = chosen
    value_node = _unwrap(token_pair.child_by_field_name("value")) if token_pair is not None else None
    token = reader.string(value_node) if value_node is not None else None
    spans: dict[str, tuple[int, int]] = {}
    unknown: set[str] = set()
    opened: set[str] = set()
    value = reader.value(node, "", spans, unknown, opened, skip=token_pair)
    return value, frozenset(opened), frozenset(unknown), hint, token


def _token_pair(reader: JsScanner, node):
    return next((c for c in node.named_children if c.type == "pair" and reader.key(c) == "token"), None)


def _objects(root):
    """The object literals under ``root``, in the order of the text (outer before inner)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "object":
            yield node
        stack.extend(reversed(node.children))
