"""The installs a docs team makes, as `pip check` judges them: the plugin with MkDocs, the
extension with Zensical, the plugin with ProperDocs, and all together.

A test cannot install from the package index, so each setup is judged on what this environment
has installed: the requirements a setup would pull in (from its roots, following every installed
distribution's requirements, markers evaluated here) must each be met by the installed version (what
`pip check` reports), and a Zensical or ProperDocs site must not pull in MkDocs (a second generator).
"""

from __future__ import annotations

from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SETUPS = {
    "plugin with MkDocs": ["mkdocs-oo-jwt[mkdocs]"],
    "extension with Zensical": ["mkdocs-oo-jwt", "zensical"],
    "plugin with ProperDocs": ["mkdocs-oo-jwt", "properdocs"],
    "all together": ["mkdocs-oo-jwt[mkdocs]", "zensical", "properdocs"],
}
WITHOUT_MKDOCS = {"extension with Zensical", "plugin with ProperDocs"}


def pulled_in(roots: list[str]) -> tuple[dict[str, str], list[str]]:
    """Every distribution the roots pull in ({name: installed version}), and what `pip check`
    would say of them (a requirement not installed, or installed at a version it excludes)."""
    found: dict[str, str] = {}
    problems: list[str] = []
    todo = [(Requirement(root), "the setup") for root in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, wanted_by = todo.pop()
        name = canonicalize_name(requirement.name)
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{wanted_by} requires {requirement}, which is not installed")
            continue
        version = dist.version
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{wanted_by} requires {requirement}, but {version} is installed")
        found[name] = version
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            child = Requirement(line)
            environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                todo.append((child, f"{dist.metadata['Name']} {version}"))
    return found, problems


@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_each_setup_is_clean_as_pip_check_judges_it(setup):
    roots = SETUPS[setup]
    for root in roots:
        name = Requirement(root).name
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.skip(f"{name} is not installed in this environment (the test extra installs it)")
    found, problems = pulled_in(roots)
    assert problems == []
    if setup in WITHOUT_MKDOCS:
        assert "mkdocs" not in found, f"a {setup} site would install MkDocs too"
    else:
        assert found["mkdocs"].split(".")[0] == "1"


def test_the_plugin_asks_for_a_mkdocs_with_plugins():
    """MkDocs 2.0 has no plugin system: the extra must exclude it, and the core must not need MkDocs."""
    requires = [Requirement(line) for line in metadata.distribution("mkdocs-oo-jwt").requires or []]
    core = [r for r in requires if r.marker is None]
    extra = [r for r in requires if r.marker is not None and r.marker.evaluate({"extra": "mkdocs"})]
    assert all(canonicalize_name(r.name) != "mkdocs" for r in core)
    (mkdocs,) = [r for r in extra if canonicalize_name(r.name) == "mkdocs"]
    assert "1.6.1" in mkdocs.specifier and "2.0.0" not in mkdocs.specifier and "2.0.0.dev1" not in mkdocs.specifier
