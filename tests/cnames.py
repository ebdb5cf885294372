"""The identifiers that C files declare or define at file scope, found with clang.

`file_scope_identifiers(files, include_dirs, defines)` compiles each file with
`clang -Xclang -ast-dump=json -fsyntax-only -std=c11 -x c` (a source as it is, a
header as a C file of its own), walks the top level of the AST and returns one map,
merged over all the files, from each identifier to the set of its kinds:

    "function"       functions declared or defined (static, extern, static inline)
    "variable"       file-scope variables (static, extern, tentative, defined)
    "typedef"        typedef names
    "struct-tag"     `struct X` tags, also a named struct declared inside another
    "union-tag"      `union X` tags, likewise
    "enum-tag"       `enum X` tags, likewise
    "enum-constant"  enumeration constants
    "macro"          names `#define`d in the file's text (include guards included)

Struct/union members, function parameters, locals, labels and anything declared
inside a function body are not file scope and are left out, and so are implicit
declarations (clang's builtins).

Which file a declaration belongs to
-----------------------------------
Only declarations located in one of `files` count; those that come from other
headers (pm.h, system headers, a support header) do not, even when a file of
`files` includes them. A declaration's location is the location of its name, and for
a name produced by a macro expansion it is clang's *expansion* location: the place
in a file where the outermost macro invocation is written. So `DECL(foo)` written in
a.h declares `foo` in a.h wherever DECL is defined, and so does a name pasted with
`##` (its spelling is in clang's "<scratch space>"), while a macro of a.h invoked in
another header declares names in that other header.

clang's JSON names a location's file only when it differs from the file of the
previous location it printed (in document order, `range.begin`/`range.end` and the
`spellingLoc`/`expansionLoc` halves of a macro location included, `includedFrom`
excluded), so the whole document is walked in order to know the file of every
location, function bodies included.

Limitations
-----------
* `#define` lines are found by a text scan (after joining continuation lines and
  blanking comments), so a `#define` inside `#if 0` or a skipped `#ifdef` still
  counts, and `#undef` does not remove a name.
* Declarations in preprocessor branches that are not taken with the given
  `defines` are not seen (e.g. an `#ifdef PM_DEBUG` block without "PM_DEBUG").
* Each file must compile on its own as C (a header too, with the given include
  dirs and defines); one that does not (clang exits non-zero) raises `ClangError`.
  So a fragment such as an X-macro list or an enum body meant to be #included in
  the middle of a declaration cannot be one of `files`.
* Tags declared in a function's parameter list have prototype scope and are left
  out, as C says; tags declared inside a function body are left out too.
* Identifiers a file only uses (types and functions of pm.h, ...) are not reported.
* Python's json module parses recursively: an expression nested some hundreds of
  levels deep would exceed the recursion limit (the walk itself is iterative).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "ClangError", "file_scope_identifiers", "defined_macros"]

KINDS = ("function", "variable", "typedef", "struct-tag", "union-tag", "enum-tag",
         "enum-constant", "macro")

# A JSON value as json.loads returns it; the AST is only read, never typed further.
Json = Any

# Keys under which clang's JSON dumper prints a source location. A location is a
# "bare" object {offset, file?, line?, col, tokLen, includedFrom?} or, for a token
# from a macro expansion, {spellingLoc: bare, expansionLoc: bare}; `range` is
# {begin: location, end: location}.
_LOCATION_KEYS = frozenset({"loc", "begin", "end"})
# Key under which _annotate_files stores the file of a bare location (never a clang key).
_FILE = "__file__"

_TAG_KINDS = {"struct": "struct-tag", "union": "union-tag", "enum": "enum-tag"}

_DEFINE = re.compile(r"^[^\S\n]*#[^\S\n]*define[^\S\n]+([A-Za-z_][A-Za-z0-9_]*)",
                     re.MULTILINE)
# Comments, and the string and character literals that may hold a "/*" or "//".
_COMMENT_OR_LITERAL = re.compile(
    r"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""",
    re.DOTALL)


class ClangError(RuntimeError):
    """clang could not be run, or did not compile a file."""


def file_scope_identifiers(files: list[Path], include_dirs: list[Path],
                           defines: list[str] = []) -> dict[str, set[str]]:
    """Map every identifier that `files` declare at file scope to its set of kinds.

    files: C sources and/or headers (a header is compiled as a C file of its own).
    include_dirs: passed to clang as -I, in order.
    defines: passed to clang as -D, e.g. ["PM_DEBUG", "N=3"] (never modified).

    The kinds are those of KINDS; see the module's documentation for what counts
    and where a declaration belongs. The map merges the results of all the files,
    so a name that a header declares and its source defines appears once.
    """
    wanted = {Path(f).resolve() for f in files}
    names: dict[str, set[str]] = {}
    for path in files:
        path = Path(path).resolve()
        tu = _ast_dump(path, include_dirs, defines)
        resolve = _FileResolver(path.parent)
        _annotate_files(tu)
        for name, kind, where in _file_scope_decls(tu):
            if where is not None and resolve(where) in wanted:
                names.setdefault(name, set()).add(kind)
        for name in defined_macros(path.read_text(encoding="utf-8", errors="replace")):
            names.setdefault(name, set()).add("macro")
    return names


def defined_macros(text: str) -> list[str]:
    """The names of the `#define` directives of a C file's text, in order.

    Continuation lines are joined first, and comments blanked (outside string and
    character literals), so neither a macro's body nor a commented-out `#define`
    counts. Only the name is taken, not a function-like macro's parameters.
    """
    text = text.replace("\\\r\n", "").replace("\\\n", "")
    text = _COMMENT_OR_LITERAL.sub(_blank_comment, text)
    return _DEFINE.findall(text)


def _blank_comment(match: re.Match[str]) -> str:
    """A comment becomes a space (keeping its newlines); a literal stays as it is."""
    token = match.group(0)
    if token.startswith(("//", "/*")):
        return " " + "\n" * token.count("\n")
    return token


def _ast_dump(path: Path, include_dirs: list[Path], defines: list[str]) -> Json:
    """Run clang on one file and return its AST (the TranslationUnitDecl) as JSON."""
    clang = shutil.which("clang")
    if clang is None:
        raise ClangError("clang is not on PATH")
    cmd = [clang, "-Xclang", "-ast-dump=json", "-fsyntax-only", "-std=c11",
           *(f"-I{Path(d).resolve()}" for d in include_dirs),
           *(f"-D{d}" for d in defines),
           "-x", "c", str(path)]
    result = subprocess.run(cmd, cwd=path.parent, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise ClangError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr}")
    return json.loads(result.stdout)


class _FileResolver:
    """Turns a file name from clang's JSON into a resolved Path, or None for
    clang's own buffers ("<scratch space>", "<built-in>", "<command line>")."""

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._cache: dict[str, Path | None] = {}

    def __call__(self, name: str) -> Path | None:
        if name not in self._cache:
            if name.startswith("<") and name.endswith(">"):
                self._cache[name] = None
            else:
                self._cache[name] = (self._cwd / name).resolve()
        return self._cache[name]


def _annotate_files(root: Json) -> None:
    """Store in every bare location of the AST the file it is in, under _FILE.

    clang prints a location's "file" only when it changes, so this walks the whole
    document in order (dicts keep the order of the JSON text), carrying the current
    file from one location to the next. A location whose file clang could not give
    (an empty object, e.g. of an implicit declaration) gets None and leaves the
    current file as it is. Iterative, so a deeply nested expression cannot exhaust
    Python's recursion limit.
    """
    current: str | None = None
    stack: list[Iterator[tuple[str, Json]]] = [iter([("", root)])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        key, value = item
        if key in _LOCATION_KEYS and isinstance(value, dict):
            halves = [value[k] for k in value if k in ("spellingLoc", "expansionLoc")]
            for bare in halves or [value]:
                if "file" in bare:
                    current = bare["file"]
                bare[_FILE] = current if "offset" in bare else None
        elif isinstance(value, dict):
            stack.append(iter(value.items()))
        elif isinstance(value, list):
            stack.append(iter([("", v) for v in value]))


def _decl_file(node: Json) -> str | None:
    """The file (as clang names it) of a declaration's name: the expansion location's
    for a name from a macro expansion, else the location's own."""
    loc = node.get("loc", {})
    if "expansionLoc" in loc:
        loc = loc["expansionLoc"]
    file: str | None = loc.get(_FILE)
    return file


def _file_scope_decls(tu: Json) -> Iterator[tuple[str, str, str | None]]:
    """(name, kind, file) for every named file-scope declaration of the AST."""
    for node in tu.get("inner", []):
        if node.get("isImplicit"):
            continue
        kind = node.get("kind")
        if kind == "FunctionDecl":
            yield from _named(node, "function")
        elif kind == "VarDecl":
            yield from _named(node, "variable")
        elif kind == "TypedefDecl":
            yield from _named(node, "typedef")
        elif kind in ("RecordDecl", "EnumDecl"):
            yield from _tag_decls(node)


def _named(node: Json, kind: str) -> Iterator[tuple[str, str, str | None]]:
    name = node.get("name")
    if name:
        yield name, kind, _decl_file(node)


def _tag_decls(node: Json) -> Iterator[tuple[str, str, str | None]]:
    """A struct/union/enum's tag and enumeration constants, and those of the named or
    anonymous records and enums declared inside a record: in C they are file scope
    too (`struct A { struct B { int x; } b; };` declares the tag B at file scope)."""
    if node.get("isImplicit"):
        return
    if node.get("kind") == "EnumDecl":
        yield from _named(node, "enum-tag")
        for child in node.get("inner", []):
            if child.get("kind") == "EnumConstantDecl" and not child.get("isImplicit"):
                yield from _named(child, "enum-constant")
        return
    tag = _TAG_KINDS.get(node.get("tagUsed", ""))
    if tag is not None:
        yield from _named(node, tag)
    for child in node.get("inner", []):
        if child.get("kind") in ("RecordDecl", "EnumDecl"):
            yield from _tag_decls(child)
