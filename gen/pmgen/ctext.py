"""The only spec text that reaches the output as C: types and includes, by a strict grammar.

A C type from a spec (`ctype`, a plain field's type) is parsed into tokens and
printed back from them, so nothing but what the grammar allows can reach the
generated code: identifiers, `struct`/`union`/`enum` tags, the built-in type
keywords, `const`/`volatile` under a pointer, and `*`. Any other character
(C's digraphs `<%` `%:`, trigraphs `??<`, a backslash, a universal character
name, punctuation of any kind) is refused with a located error naming it.
"""

from __future__ import annotations

import re
import unicodedata

from . import naming
from .errors import SourceLocation, SpecError

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\*|[ \t]+")
_BUILTIN = frozenset("void char short int long float double signed unsigned _Bool bool "
                     "_Complex".split())
_TAG_KEYWORDS = frozenset(("struct", "union", "enum"))
_QUALIFIERS = frozenset(("const", "volatile"))
_POINTER_QUALIFIERS = _QUALIFIERS | {"restrict"}
_INCLUDE_PATH = re.compile(r"[A-Za-z0-9_./+-]+\Z")
GRAMMAR = ("a C type here is a type name (int64_t, my_type), built-in type keywords "
           "(unsigned long), struct/union/enum TAG, and '*' for pointers")


def describe_char(char: str) -> str:
    """A character as a message names it: '<' (U+003C LESS-THAN SIGN), '\\n' (U+000A)."""
    shown = char if char.isprintable() else repr(char)[1:-1]
    name = unicodedata.name(char, "")
    return f"'{shown}' (U+{ord(char):04X}{' ' + name if name else ''})"


def c_type(text: str, location: SourceLocation, what: str) -> str:
    """The C type `text` in its canonical spelling; SpecError if it is not one.

    Canonical: tokens joined by one space, `*` bound to what follows
    (`struct point *`, `const char *`), so the output never carries the spec's text.
    """
    tokens, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise SpecError(location, f"{what} contains {describe_char(text[position])}, which "
                            f"is not allowed in a C type; {GRAMMAR}")
        if not found.group().isspace():
            tokens.append(found.group())
        position = found.end()
    if not tokens:
        raise SpecError(location, f"{what} is empty; {GRAMMAR}")
    stars = [k for k, token in enumerate(tokens) if token == "*"]
    base = tokens[:stars[0]] if stars else tokens
    _check_base(base, location, what)
    for k in stars:  # after each '*' only qualifiers of that pointer, or another '*'
        for token in tokens[k + 1:]:
            if token == "*":
                break
            if token not in _POINTER_QUALIFIERS:
                raise SpecError(location, f"{what}: '{token}' cannot follow '*'; {GRAMMAR}")
    top = tokens[stars[-1] + 1:] if stars else base
    for token in top:
        if token in _QUALIFIERS:
            raise SpecError(location, f"{what} is '{token}'-qualified, but a box's value is "
                            "assigned and copied; drop the top-level qualifier (a pointer to "
                            f"{token} data, '{token} char *', is fine)")
    if not stars and "void" in base:
        raise SpecError(location, f"{what} is void, which holds no value; use 'void *' for "
                        "a pointer")
    out = " ".join(base)
    for token in tokens[len(base):]:
        out += ("*" if out.endswith("*") else " *") if token == "*" else f" {token}"
    return out


def _check_base(base: list[str], location: SourceLocation, what: str) -> None:
    words = [t for t in base if t not in _QUALIFIERS]
    if not words:
        raise SpecError(location, f"{what} names no type; {GRAMMAR}")
    if words[0] in _TAG_KEYWORDS:
        if len(words) != 2:
            raise SpecError(location, f"{what}: '{words[0]}' takes exactly one tag name "
                            f"('{words[0]} point'); {GRAMMAR}")
        _check_name(words[1], location, what)
        return
    if all(w in _BUILTIN for w in words):
        return
    if len(words) != 1:
        odd = next(w for w in words if w not in _BUILTIN)
        raise SpecError(location, f"{what}: '{odd}' cannot be combined with "
                        f"{' '.join(w for w in words if w != odd)}; {GRAMMAR}")
    _check_name(words[0], location, what)


def _check_name(name: str, location: SourceLocation, what: str) -> None:
    if name in naming.C_KEYWORDS or name in naming.OTHER_KEYWORDS:
        raise SpecError(location, f"{what}: '{name}' is a keyword, not a type name; {GRAMMAR}")
    if name.startswith("_") and name not in _BUILTIN:
        raise SpecError(location, f"{what}: '{name}' starts with '_', which C reserves "
                        "(for the implementation); choose another name")
    if name in naming.GENERATED_LOCALS:
        raise SpecError(location, f"{what}: type name '{name}' is also the name of a parameter "
                        "or local variable in the generated functions, which would hide the "
                        "type; rename the type (a typedef with another name will do)")


def include(text: str, location: SourceLocation) -> str:
    """An include as it is written after `#include`: <path>, "path", or a bare path quoted."""
    if text.startswith("<") or text.startswith('"'):
        closing = ">" if text[0] == "<" else '"'
        if len(text) < 3 or text[-1] != closing:
            raise SpecError(location, f"include {text!r} is malformed; write <file.h>, "
                            '"file.h" or file.h')
        path, quoted = text[1:-1], text
    else:
        path, quoted = text, f'"{text}"'
    bad = next((c for c in path if not _INCLUDE_PATH.match(c)), None)
    if bad is not None:
        raise SpecError(location, f"include {text!r} contains {describe_char(bad)}; an include "
                        "path is letters, digits and _ . / + - only")
    if not path.strip("./"):
        raise SpecError(location, f"include {text!r} names no file")
    return quoted
