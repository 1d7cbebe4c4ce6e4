"""The package's shape, read from its source: imports point one way, no module imports another's
private names, and no import cycle (counting imports inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mkdocs_oo_jwt"
NAME = "mkdocs_oo_jwt"

# what may not import what (the front ends are imported by nothing; the engine knows no run)
FRONT_ENDS = {f"{NAME}.cli", f"{NAME}.plugin", f"{NAME}.extension", f"{NAME}.explain", f"{NAME}.__main__"}
LOWER_THAN_RUN = {f"{NAME}.engine", f"{NAME}.attribution", f"{NAME}.pairing", f"{NAME}.flows", f"{NAME}.model",
                  f"{NAME}.page", f"{NAME}.samples", f"{NAME}.words", f"{NAME}.signing", f"{NAME}.tokens"}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import of the package that
    runs (inside functions too; not those under ``if TYPE_CHECKING:``, for annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # drop the annotation-only imports
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, None, node.lineno) for alias in node.names if alias.name.startswith(NAME)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path).split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith(NAME):
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                out.append((sub, None, node.lineno) if sub in known else (module, alias.name, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: {m for m, _, _ in imports(name, path, set(found)) if m != name} for name, path in found.items()}


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt.startswith(NAME) and nxt not in edges:  # a package imported through its __init__
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif state.get(nxt) is None:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_imports_point_one_way():
    problems = []
    for name, targets in graph().items():
        for target in targets:
            if target in FRONT_ENDS and name not in FRONT_ENDS:
                problems.append(f"{name} imports the front end {target}")
            if name in LOWER_THAN_RUN and (target == f"{NAME}.run" or target.startswith(f"{NAME}.run.")):
                problems.append(f"{name} imports {target}: the run is above the engine")
            reporter_may = (NAME, f"{NAME}.model", f"{NAME}.catalog")  # the version, findings, rule docs
            if name.startswith(f"{NAME}.report") and target not in reporter_may and not target.startswith(f"{NAME}.report"):
                problems.append(f"{name} imports {target}: a reporter needs only the model")
    assert not problems, "\n".join(sorted(problems))


def test_no_module_uses_another_modules_private_names():
    found = modules()
    problems = []
    for name, path in found.items():
        for module, taken, line in imports(name, path, set(found)):
            if taken and taken.startswith("_") and not taken.startswith("__") and module != name:
                problems.append(f"{path.name}:{line} takes {taken} from {module}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.asname or alias.name.rsplit(".", 1)[-1]
                    for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in imported
                    and f"{_package_of(name, path)}.{node.value.id}" in found):
                problems.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not problems, "\n".join(sorted(problems))


def test_the_reading_of_imports_sees_what_the_checks_need(tmp_path):
    """The tests above are not vacuous: relative, function-level and attribute uses are all read."""
    edges = graph()
    assert f"{NAME}.engine" in edges[f"{NAME}.run.checker"]  # the run imports the engine
    assert f"{NAME}.rules" in edges[f"{NAME}.engine"]  # inside check_page's function body
    assert f"{NAME}.extract.code" not in edges[f"{NAME}.extract.js"]  # for annotations only
    sample = tmp_path / "sample.py"
    sample.write_text("from .flows import _load\nfrom . import flows\nx = flows._signature\n", encoding="utf-8")
    assert (f"{NAME}.flows", "_load", 1) in imports(f"{NAME}.sample", sample, set(modules()))
