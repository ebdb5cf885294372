"""C names: identifier rules, handle and value names, the clash table."""

from __future__ import annotations

import re

from .errors import SourceLocation, SpecError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
    _Imaginary _Noreturn _Static_assert _Thread_local bool true false NULL
""".split())
# Text that could end a declaration, open a block or a comment, or start a
# preprocessor line: never allowed in a C type or an include taken from a spec.
_INJECTION = re.compile(r"[;{}#\n\r\\]|/\*|\*/|//")


def check_identifier(name: str, location: SourceLocation, what: str, where: str = "") -> None:
    """Fail unless `name` can be used as (part of) a C identifier; `where` adds context."""
    shown = f"{what} '{name}'{where}"
    if not _IDENTIFIER.match(name):
        raise SpecError(location, f"{shown} is not a C identifier; use letters, digits and '_',"
                        " not starting with a digit")
    if name in C_KEYWORDS:
        raise SpecError(location, f"{shown} is a C keyword; choose another name")
    if name.startswith("__") or re.match(r"_[A-Z]", name):
        raise SpecError(location, f"{shown} is reserved in C (it starts with '__' or with '_'"
                        " and a capital letter); choose another name")


def check_c_text(text: str, location: SourceLocation, what: str) -> None:
    """Reject text that would inject C when pasted into generated code."""
    found = _INJECTION.search(text)
    if found:
        raise SpecError(location, f"{what} must not contain {found.group()!r}, which would "
                        f"inject C into the generated code (got {text!r})")
    if not text.strip():
        raise SpecError(location, f"{what} is empty")


def handle_name(type_name: str, policy_name: str) -> str:
    return f"Managed_{type_name}_{policy_name}"


def value_struct_name(type_name: str, policy_name: str) -> str:
    return f"{type_name}_{policy_name}"


class NameTable:
    """Generated C names and where each came from; the second claim of a name fails."""

    def __init__(self) -> None:
        self._owners: dict[str, tuple[SourceLocation, str]] = {}

    def claim(self, name: str, location: SourceLocation, owner: str,
              verb: str = "generates") -> None:
        """Claim `name` for `owner`; a second owner of the same name is a SpecError.

        The same owner may claim a name again (a struct tag and its typedef).
        """
        previous = self._owners.get(name)
        if previous is not None and previous[1] != owner:
            where, other = previous
            raise SpecError(location, f"{owner} {verb} the C name '{name}', which {other}"
                            " also uses; rename one of them",
                            [(where, f"{other} is declared here")])
        self._owners.setdefault(name, (location, owner))
