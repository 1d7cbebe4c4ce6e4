"""The walk: every page under the files and folders given, in order, leaving out what no user
means to check (``DEFAULT_EXCLUDE``, the ``exclude`` globs, what ``.gitignore`` files ignore, a site
generator's build output). Nothing is skipped silently: a folder reached through a symbolic link
is walked (as MkDocs builds it), each folder once (no loop); a folder that cannot be listed is
yielded as ``Unlistable``, an error finding."""

from __future__ import annotations

import os
import re
from typing import Iterable, Iterator, Sequence

from ..model import Finding
from ..settings import GENERATOR_CONFIGS, OptionError, Settings
from .files import PAGE_SUFFIXES, page_problem

# What a walk leaves out unless ``exclude`` says otherwise (``extend_exclude`` adds to it):
# gitignore-style globs (pathspec's GitIgnoreSpec), matched against paths relative to the settings'
# ``root``. A trailing slash matches folders only; a folder that matches is not walked at all.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git/",
    ".venv/",
    "venv/",
    "node_modules/",
    "__pycache__/",
    ".oo-jwt-cache/",  # the pages' cache (``check``'s default --cache-dir)
    ".*/",  # every other hidden folder (.github, .tox, .idea, ...), as the walk always did
)
# ... and, with the defaults only (a user's ``exclude`` replaces the defaults and this rule with
# them), a site generator's build output: a folder named ``site`` *beside* the generator's config
# file. Not every ``site/``: ONLYOFFICE's own repository keeps its Docusaurus docs, Markdown
# sources to check, under a ``site/`` folder, and a glob (``site/``) cannot tell the two apart.
# MkDocs, ProperDocs and Zensical build into ``site/`` next to their config by default, and
# plugins that copy the Markdown sources into the build (llms.txt, "view source") would otherwise
# have every page checked twice, the stale copy included.
SITE_DIR = "site"
SITE_CONFIGS = frozenset(name for names in GENERATOR_CONFIGS.values() for name in names)


class Unlistable:
    """What the walk yields, in place of a page's directory entry, for a folder it cannot list
    (no permission, an I/O error): its pages cannot be checked, and that is an error finding
    (``finding``), never a silent skip."""

    __slots__ = ("error",)

    def __init__(self, error: OSError):
        self.error = error

    def finding(self, shown: str) -> Finding:
        reason = self.error.strerror or self.error.__class__.__name__
        return page_problem(shown, f"folder cannot be listed ({reason}): the pages in it were not checked")


def discover(paths: Iterable[str], settings: Settings) -> Iterator[tuple[str, str]]:
    """(file, path as reported) for every page under the given files and folders, sorted.

    Plain strings (a run over ten thousand pages should not pay for path objects). The pages
    only: a folder that cannot be listed is not among them (a run that reports must use
    ``discover_entries``, which yields it). What is left out, and how symbolic links are
    followed: see ``discover_entries``."""
    for file, shown, entry in discover_entries(paths, settings):
        if not isinstance(entry, Unlistable):
            yield file, shown


def discover_entries(paths: Iterable[str], settings: Settings) -> Iterator[tuple[str, str, os.DirEntry | Unlistable | None]]:
    """``discover`` with each page's directory entry (None for a file given by name), whose
    ``stat()`` costs less than a ``stat`` of the path. Order as ``os.walk`` top-down with sorted
    names: a folder's pages, then each subfolder's. A folder that cannot be listed is yielded
    (its path, as reported without a trailing slash) with an ``Unlistable`` for an entry.

    A symbolic link to a folder is walked, as MkDocs builds it, after every folder given has been
    walked, and only if the folder it leads to (by device and inode) was not walked already: each
    folder's pages are found once, under their own name where the tree has it, and a link loop
    (``docs/loop -> ..``) ends. The excludes and .gitignore files apply to a link as to a folder.

    Under a folder, a page or folder is left out when the excludes match it (``exclude``, or
    ``DEFAULT_EXCLUDE`` and the site rule, plus ``extend_exclude``: globs relative to ``root``) or a
    ``.gitignore`` ignores it (``respect_gitignore``): every ``.gitignore`` met on the way down, and
    those of the folders above the walked one up to the repository's root (the folder holding
    ``.git``), with git's precedence (a deeper file's patterns win over its parents'). A folder
    left out is not walked at all. A path given by name is always checked, unless
    ``force_exclude`` and it (or a folder above it) is excluded or ignored; the patterns that
    exclude a folder given by name are applied from that folder down (``node_modules/`` given by
    name is walked, a ``node_modules/`` inside it is not)."""
    rules = None
    links = _Links()
    for given in paths:
        if os.path.isdir(given):
            prefix = given if given.endswith(os.sep) else given + os.sep  # how os.walk joins
            shown_base = "" if given in (".", "./") else given.rstrip("/" + os.sep).replace(os.sep, "/") + "/"
            rules = rules or _Rules(settings)
            walk = rules.folder(given)
            if walk is not None:
                excludes, ignores, site_rule, gitignore = walk
                yield from _walk([(prefix, shown_base, "", ignores)], excludes, site_rule, gitignore, links)
        elif settings.force_exclude:
            rules = rules or _Rules(settings)
            if not rules.file_left_out(given):
                yield given, given, None
        else:
            yield given, given, None
    yield from links.walk()


class _Links:
    """The folders a walk has listed, and the symbolic links to folders it met: walked last, and
    then every folder (the link's and those below it) only if it was not walked yet (device and
    inode, ``stat`` following the links). Until a link is followed, no folder costs a ``stat``."""

    def __init__(self):
        self.walked: list[str] = []  # every folder listed, as a path
        self.met: list[tuple] = []  # (the link's todo item, then _walk's other arguments), in order met
        self.following = False
        self._seen: set[tuple[int, int]] = set()
        self._known = 0  # how many of ``walked`` are in ``_seen``

    def walk(self) -> Iterator[tuple[str, str, os.DirEntry | Unlistable]]:
        self.following = True
        while self.met:
            item, *rest = self.met.pop(0)
            yield from _walk([item], *rest, self)

    def first_visit(self, folder: str) -> bool:
        """Is ``folder`` one not walked yet (or one whose ``stat`` fails: its listing says why)?"""
        for walked in self.walked[self._known:]:
            try:
                self._seen.add(_folder_id(os.stat(walked)))
            except OSError:
                pass
        self._known = len(self.walked)
        try:
            folder_id = _folder_id(os.stat(folder))
        except OSError:
            return True
        return folder_id not in self._seen


def _folder_id(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _walk(todo: list[tuple[str, str, str, tuple[_Layer, ...]]], excludes: tuple[_Layer, ...], site_rule: bool,
          gitignore: bool, links: _Links) -> Iterator[tuple[str, str, os.DirEntry | Unlistable]]:
    # todo: folders still to list, the next one last (no generator per level): (folder, shown, its
    # path from the walked folder with a trailing slash, the .gitignore layers that apply, deepest first)
    page_excludes = tuple(layer for layer in excludes if layer.files)
    # each default glob is one folder name (``node_modules/``, ``.*/``: no slash but the last), which
    # matches that folder at any depth: the answer for a name holds everywhere, so it is asked once
    # per name (a tree repeats its folder names: 242 names for 694 folders in the corpus)
    by_name: dict[str, bool] | None = {} if excludes[0].lines == DEFAULT_EXCLUDE and len(excludes) == 1 else None
    while todo:
        folder, shown, rel, ignores = todo.pop()
        if links.following and not links.first_visit(folder):
            continue  # reached again through a link: walked already (a link loop ends here)
        pages, subfolders, linked = [], [], set()
        ignore_file = beside_config = False
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if _is_dir(entry):
                        subfolders.append(entry.name)
                        if entry.is_symlink():  # walked last, if its folder was not (``_Links``)
                            linked.add(entry.name)
                    elif entry.name.lower().endswith(PAGE_SUFFIXES):
                        pages.append(entry)
                    elif entry.name == ".gitignore":
                        ignore_file = True
                    elif entry.name in SITE_CONFIGS:
                        beside_config = True
        except OSError as exc:  # its pages cannot be found: an error finding, not a silent skip
            yield folder.rstrip(os.sep) or folder, shown.rstrip("/") or ".", Unlistable(exc)
            continue
        links.walked.append(folder)
        if ignore_file and gitignore:
            layer = _gitignore_layer(folder + ".gitignore", "", len(rel))
            if layer is not None:
                ignores = (layer, *ignores)
        pages.sort(key=_name)
        # a folder-only pattern (``build/``) never matches a page: only folders pay for those
        page_ignores = tuple(layer for layer in ignores if layer.files) if ignores else ()
        if page_excludes or page_ignores:
            for entry in pages:
                path = rel + entry.name
                if not (_decide(page_excludes, path) or _decide(page_ignores, path)):
                    yield folder + entry.name, shown + entry.name, entry
        else:
            for entry in pages:
                yield folder + entry.name, shown + entry.name, entry
        if site_rule and beside_config and SITE_DIR in subfolders:
            subfolders.remove(SITE_DIR)  # a site generator's build output (see SITE_DIR)
        walked = []
        for name in subfolders:
            if by_name is None:
                path = rel + name + "/"
                if _decide(excludes, path) or (ignores and _decide(ignores, path)):
                    continue
            else:
                excluded = by_name.get(name)
                if excluded is None:
                    excluded = by_name[name] = bool(_decide(excludes, name + "/"))
                if excluded or (ignores and _decide(ignores, rel + name + "/")):
                    continue
            walked.append(name)
        walked.sort(reverse=True)
        todo += [(folder + name + os.sep, shown + name + "/", rel + name + "/", ignores)
                 for name in walked if name not in linked]
        if linked:
            links.met += [((folder + name + os.sep, shown + name + "/", rel + name + "/", ignores), excludes,
                           site_rule, gitignore) for name in reversed(walked) if name in linked]


class _Layer:
    """One list of gitignore-style lines (a ``.gitignore``, or the excludes), matched by pathspec
    against paths relative to the folder it belongs to: ``lead`` + the path from the walked folder
    less its first ``cut`` characters (a folder's path ends with a slash).

    pathspec answers for a whole path (a match of a folder above counts), git for each folder on
    the way down and then the file. The walk asks folder by folder, so the two agree but where a
    deeper .gitignore re-includes what a higher one ignores by a folder above: ``build`` above and
    ``!build/`` below leave ``build/page.md`` out here, not in git; ``*.md`` above and ``!foo``
    below keep ``foo/a.md`` here, not in git. And pathspec takes ``gen/**`` for the folder ``gen``
    too, so ``!gen/keep.md`` after it cannot bring that page back (git can)."""

    __slots__ = ("lines", "spec", "lead", "cut", "files")

    def __init__(self, lines: Sequence[str], lead: str, cut: int, spec=None):
        self.lines = tuple(lines)
        self.spec = spec if spec is not None else _spec(self.lines)
        self.lead = lead
        self.cut = cut
        # can it match a page? Only a line that is not folder-only can (``!keep.md`` too: a
        # deeper file's negation overrides its parents' match); blank lines and comments cannot
        self.files = any(line.rstrip(" ")[-1:] not in ("/", "") and not line.startswith("#") for line in self.lines)

    def says(self, path: str) -> bool | None:
        """True: ignored, False: re-included by a negation, None: no line matches."""
        return self.spec.check_file(self.lead + path[self.cut:]).include


def _decide(layers: tuple[_Layer, ...], path: str) -> bool | None:
    """The first layer that has something to say about ``path`` decides (deepest first): True
    left out, False re-included by a negation, None nothing matches (truthy: left out)."""
    if len(layers) == 1:  # the usual case: left out or not is all there is to know
        layer = layers[0]
        return layer.spec.match_file(layer.lead + path[layer.cut:])
    for layer in layers:
        include = layer.spec.check_file(layer.lead + path[layer.cut:]).include
        if include is not None:
            return include
    return None


def _compile(lines: Sequence[str]):
    from pathspec import GitIgnoreSpec  # imported when a glob needs it (``_spec``), never by a run over files

    return GitIgnoreSpec.from_lines(lines)


def _spec(lines: Sequence[str]):
    """A matcher of gitignore-style ``lines``: pathspec's, or, when every line names a folder at
    any depth (``DEFAULT_EXCLUDE``: ``node_modules/``, ``.*/``), ``_FolderNames``, which gives the
    same answers without importing pathspec (about 13 ms of a run on a tree with no .gitignore)."""
    return _FolderNames(lines) if _names_folders(lines) else _compile(lines)


def _names_folders(lines: Sequence[str]) -> bool:
    return bool(lines) and all(_FOLDER_NAME.match(line) for line in lines)


# a line that names a folder at any depth: a name with no glob, escape, space or slash but the last
# (or ``.*/``: any hidden folder), not a negation or a comment
_FOLDER_NAME = re.compile(r"(?:\.\*|[^\s/*?\[\]\\!#][^\s/*?\[\]\\]*)/\Z")


class _FolderNames:
    """pathspec's ``GitIgnoreSpec`` for lines that each name a folder (``name/``, ``.*/``): a path
    matches when one of its folders (every part before its last slash) has such a name."""

    __slots__ = ("names", "hidden")

    def __init__(self, lines: Sequence[str]):
        self.names = frozenset(line[:-1] for line in lines if line != ".*/")
        self.hidden = ".*/" in lines

    def match_file(self, path: str) -> bool:
        return any(name in self.names or (self.hidden and name.startswith(".")) for name in path.split("/")[:-1])

    def check_file(self, path: str) -> _Answer:
        return _Answer(True if self.match_file(path) else None)


class _Answer:
    """pathspec's ``CheckResult``, as far as the walk reads it."""

    __slots__ = ("include",)

    def __init__(self, include: bool | None):
        self.include = include


def _valid_lines(lines: Iterable[str]) -> list[str]:
    """The lines pathspec can compile (git skips a line it cannot read; so do we)."""
    valid = []
    for line in lines:
        try:
            _compile([line])
        except Exception:  # noqa: BLE001 - GitIgnorePatternError (a ValueError) or re.error
            continue
        valid.append(line)
    return valid


def compile_excludes(globs: Sequence[str], settings: Settings | None = None):
    """The excludes as one GitIgnoreSpec; a glob pathspec cannot read is an ``OptionError`` (a
    configuration error: one line, exit 2) that names it."""
    try:
        return _compile(globs)
    except Exception:  # noqa: BLE001 - GitIgnorePatternError (a ValueError) or re.error: which glob?
        for glob in globs:
            try:
                _compile([glob])
            except Exception as exc:  # noqa: BLE001
                option = "extend_exclude" if settings is not None and glob in settings.extend_exclude else "exclude"
                raise OptionError("", option, f"{glob!r} is not a gitignore-style glob ({exc})") from None
        raise


def _gitignore_layer(file: str, lead: str, cut: int) -> _Layer | None:
    """The layer of a .gitignore (None if it cannot be read or says nothing)."""
    try:
        with open(file, encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.read().splitlines()
    except (OSError, ValueError):
        return None
    lines = [line for line in lines if line.strip() and not line.startswith("#")]
    if not lines:
        return None
    try:
        spec = _compile(lines)
    except Exception:  # noqa: BLE001 - one line pathspec (and git) cannot read: skip that line
        lines = _valid_lines(lines)
        if not lines:
            return None
        spec = _compile(lines)
    return _Layer(lines, lead, cut, spec)


class _Rules:
    """What the walk leaves out, from the settings; built on the first folder (or the first file
    given by name with ``force_exclude``)."""

    def __init__(self, settings: Settings):
        root = os.path.abspath(settings.root if settings.root is not None else os.curdir)
        self.roots = (root, os.path.realpath(root))
        globs = (*(DEFAULT_EXCLUDE if settings.exclude is None else settings.exclude), *settings.extend_exclude)
        self.excludes = _Layer(globs, "", 0, _spec(globs) if _names_folders(globs) else compile_excludes(globs, settings))
        self.site_rule = settings.exclude is None
        self.gitignore = settings.respect_gitignore
        self.force = settings.force_exclude
        self._ignores: dict[str, tuple[_Layer, ...] | None] = {}  # see _ignore_layers

    def folder(self, given: str) -> tuple | None:
        """The arguments of ``_walk`` after the folder's own, for a folder given by name; None
        if it is to be skipped."""
        where = os.path.abspath(given)
        parent, name = os.path.split(where)
        rel = self._from_root(where)  # "docs/", "" for the root itself, None outside it
        excludes = (_Layer(self.excludes.lines, rel or "", 0, self.excludes.spec),)
        excluded = bool(rel) and self._excluded(where, folder=True)
        ignores: tuple[_Layer, ...] = ()
        ignored = False
        if self.gitignore and name and not os.path.lexists(os.path.join(where, ".git")):
            ignores = self._layers_above(parent, name + "/")
            ignored = self._ignored(where, folder=True)
        if self.force and (excluded or ignored):
            return None
        if excluded:
            excludes = _set_aside(excludes)
        if ignored:
            ignores = _set_aside(ignores)
        return excludes, ignores, self.site_rule, self.gitignore

    def file_left_out(self, given: str) -> bool:
        """Is a file given by name (with ``force_exclude``) excluded or ignored, it or a folder above?"""
        where = os.path.abspath(given)
        return self._excluded(where, folder=False) or (self.gitignore and self._ignored(where, folder=False))

    def _excluded(self, where: str, folder: bool) -> bool:
        """Would a walk from the root leave ``where`` out (its path or a folder above it excluded)?
        Asked folder by folder from the top, as the walk meets them."""
        parent, name = os.path.split(where)
        rel = self._from_root(parent)
        if rel is None:
            return False
        path = rel + name + ("/" if folder else "")
        folders = [path[: i + 1] for i, char in enumerate(path) if char == "/"]
        here = where if folder else parent
        for _ in folders:  # the deepest first
            if self.site_rule and os.path.basename(here) == SITE_DIR and _beside_config(here):
                return True
            here = os.path.dirname(here)
        if any(self.excludes.says(folder_path) for folder_path in folders):
            return True
        return not folder and bool(self.excludes.says(path))

    def _ignored(self, where: str, folder: bool) -> bool:
        """Would git ignore ``where``: it or a folder above it, asked from the repository's root
        down with the .gitignore files above each (as the walk meets them)? False outside a
        repository."""
        if folder and os.path.lexists(os.path.join(where, ".git")):
            return False
        chain, here = [], where
        while True:
            parent = os.path.dirname(here)
            if parent == here:
                return False
            chain.append(here)
            if os.path.lexists(os.path.join(parent, ".git")):
                break
            here = parent
        for here in reversed(chain):
            below = os.path.basename(here) + ("/" if here != where or folder else "")
            if _decide(self._layers_above(os.path.dirname(here), below), "") is True:
                return True
        return False

    def _from_root(self, where: str) -> str | None:
        """The path of a folder from the root, with a trailing slash ("" for the root itself);
        None outside it (the globs are then matched from the walked folder down)."""
        real_root = self.roots[1]
        tries = ((where, self.roots[0]), (where, real_root), (os.path.realpath(where), real_root))
        for path, root in tries:  # the settings' root may be resolved (links), the path given not
            try:
                rel = os.path.relpath(path, root)
            except ValueError:  # another drive
                continue
            if rel == os.curdir:
                return ""
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
                return rel.replace(os.sep, "/") + "/"
        return None

    def _layers_above(self, folder: str, below: str) -> tuple[_Layer, ...]:
        """The .gitignore layers that apply in ``folder`` (its own and its parents' up to the
        repository's root), deepest first, for paths that start with ``below`` (a name in
        ``folder``: ``page.md``, ``docs/``)."""
        layers = self._ignore_layers(folder) or ()
        return tuple(_Layer(layer.lines, layer.lead + below, 0, layer.spec) for layer in layers)

    def _ignore_layers(self, folder: str) -> tuple[_Layer, ...] | None:
        """The .gitignore layers of ``folder`` and of the folders above it up to the repository's
        root, deepest first, for paths from ``folder``; None outside a repository (git ignores
        nothing there). Kept per folder: files given one by one share their folders'."""
        if folder in self._ignores:
            return self._ignores[folder]
        own = _gitignore_layer(os.path.join(folder, ".gitignore"), "", 0)
        layers: tuple[_Layer, ...] | None = (own,) if own is not None else ()
        if not os.path.lexists(os.path.join(folder, ".git")):  # a folder, or a file (a worktree, a submodule)
            parent, name = os.path.split(folder)
            above = self._ignore_layers(parent) if parent != folder else None
            if above is None:
                layers = None
            else:
                layers += tuple(_Layer(layer.lines, layer.lead + name + "/", 0, layer.spec) for layer in above)
        self._ignores[folder] = layers
        return layers


def _set_aside(layers: tuple[_Layer, ...]) -> tuple[_Layer, ...]:
    """The layers for a folder given by name that they leave out: the lines that match the folder
    (itself or a folder above it) are matched from that folder down instead."""
    out: list[_Layer] = []
    for layer in layers:
        hit = [_spec([line]).check_file(layer.lead).include is True for line in layer.lines]
        if not any(hit):
            out.append(layer)
            continue
        out.append(_Layer([line for line, h in zip(layer.lines, hit) if h], "", 0))
        kept = [line for line, h in zip(layer.lines, hit) if not h]
        if kept:
            out.append(_Layer(kept, layer.lead, layer.cut))
    return tuple(out)


def _beside_config(folder: str) -> bool:
    """Is ``folder`` beside a site generator's config file (see ``SITE_DIR``)?"""
    parent = os.path.dirname(folder)
    return any(os.path.isfile(os.path.join(parent, config)) for config in SITE_CONFIGS)


def page_stat(file: str, entry: os.DirEntry | None) -> os.stat_result:
    """The stat of a page as ``discover_entries`` found it (from its directory entry if it has one)."""
    return entry.stat() if entry is not None else os.stat(file)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link to itself: as os.walk, not a folder (and its read says why)
        return False


def _name(entry: os.DirEntry) -> str:
    return entry.name
