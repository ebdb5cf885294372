"""C names: identifier rules, handle and value names, the spec's prefix, the clash table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SourceLocation, SpecError
from .reserved import C_LIBRARY_NAMES

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
    _Imaginary _Noreturn _Static_assert _Thread_local bool true false NULL
""".split())
# Keywords of the languages the generated headers are also read as: C++ (they
# compile in a C++17 unit) and GNU C (-std=gnu11 makes `asm` and `typeof` keywords).
OTHER_KEYWORDS = frozenset("""
    alignas alignof and and_eq asm bitand bitor catch char8_t char16_t char32_t class compl
    concept consteval constexpr constinit const_cast co_await co_return co_yield decltype
    delete dynamic_cast explicit export friend mutable namespace new noexcept not not_eq
    nullptr operator or or_eq private protected public reinterpret_cast requires
    static_assert static_cast template this thread_local throw try typeid typename typeof
    using virtual wchar_t xor xor_eq
""".split())
# Parameters and locals of the generated functions: a type of the same name would be
# hidden inside them, a hook of the same name could not be called.
GENERATED_LOCALS = frozenset("""
    address box copy ctx dst guard h hp init other out self shared size src status timeout_ns
    last memory token value w
""".split())
# Parameters and locals of a sum type's variant constructors, whose other parameters
# are the variant's fields.
CONSTRUCTOR_LOCALS = frozenset("box memory out size token".split())
assert CONSTRUCTOR_LOCALS <= GENERATED_LOCALS
# The runtime's prefixes: every pm_/PM_ name is the runtime's, now or later.
RUNTIME_PREFIXES = ("pm_", "PM_")


def check_identifier(name: str, location: SourceLocation, what: str, where: str = "") -> None:
    """Fail unless `name` can be used as (part of) a C identifier; `where` adds context."""
    shown = f"{what} '{name}'{where}"
    if not _IDENTIFIER.match(name):
        raise SpecError(location, f"{shown} is not a C identifier; use letters, digits and '_',"
                        " not starting with a digit")
    if name in C_KEYWORDS:
        raise SpecError(location, f"{shown} is a C keyword; choose another name")
    if name.startswith("_"):
        raise SpecError(location, f"{shown} starts with '_', and such names are reserved in C "
                        "(for the implementation, at file scope); choose another name")


def check_free_name(name: str, location: SourceLocation, what: str, where: str = "") -> None:
    """`check_identifier`, for a name the output uses alone (a field, a hook, a module).

    It must also not be a name the C library headers of the output declare or
    define as a macro (`EOF`, `memcpy`, `linux`), nor the runtime's.
    """
    check_identifier(name, location, what, where)
    shown = f"{what} '{name}'{where}"
    _check_other_keyword(name, location, shown)
    if name.startswith(RUNTIME_PREFIXES) or name == "pm":
        raise SpecError(location, f"{shown} is in the perceus-mem runtime's namespace "
                        "(pm_, PM_); choose another name")
    if name in C_LIBRARY_NAMES:
        raise SpecError(location, f"{shown} is already a name of the C library headers the "
                        "generated code includes (a function, type or macro there); choose "
                        "another name")


def check_prefix(name: str, location: SourceLocation) -> None:
    """`check_identifier`, for the spec's `prefix`: the start of every generated name.

    It is never used alone, so the C library's names are fine (`FILE_Managed_N_P`
    is not `FILE`); the runtime's namespace is not: `pm` would make `pm_Managed_N_P`.
    """
    check_identifier(name, location, "prefix")
    shown = f"prefix '{name}'"
    _check_other_keyword(name, location, shown)
    if c_name(name, "").startswith(RUNTIME_PREFIXES):
        raise SpecError(location, f"{shown} would put every generated name in the "
                        "perceus-mem runtime's namespace (pm_, PM_); choose another prefix")


def _check_other_keyword(name: str, location: SourceLocation, shown: str) -> None:
    if name in OTHER_KEYWORDS:
        raise SpecError(location, f"{shown} is a keyword of C++ or GNU C, and generated "
                        "headers are read as both; choose another name")


def handle_name(type_name: str, policy_name: str) -> str:
    """Managed_N_P before the prefix: a registry pattern's {handle}; `Namer.handle` emits it."""
    return f"Managed_{type_name}_{policy_name}"


def weak_name(type_name: str, policy_name: str) -> str:
    return f"Weak_{type_name}_{policy_name}"


def region_name(type_name: str, policy_name: str) -> str:
    """Region_N_P before the prefix: a registry pattern's {region} (`region: true`)."""
    return f"Region_{type_name}_{policy_name}"


def instance_bases(type_name: str, policy_name: str) -> dict[str, str]:
    """The bases a registry pattern names, before the prefix: {handle}, {value}, ..."""
    return {
        "handle": handle_name(type_name, policy_name),
        "value": value_struct_name(type_name, policy_name),
        "weak": weak_name(type_name, policy_name),
        "region": region_name(type_name, policy_name),
        "store": f"Store_{type_name}_{policy_name}",
        "store_handle": f"StoreHandle_{type_name}_{policy_name}",
        "store_weak": f"StoreWeak_{type_name}_{policy_name}",
    }


def value_struct_name(type_name: str, policy_name: str) -> str:
    return f"{type_name}_{policy_name}"


def tag_type_name(type_name: str) -> str:
    """A sum type's tag enum, one for all its policies."""
    return f"{type_name}_tag"


def tag_constant_name(type_name: str, variant_name: str) -> str:
    return f"{type_name}_{variant_name}"


def c_name(prefix: str, name: str) -> str:
    """The C name the output gives `name`: `prefix_name`, or `name` itself with no prefix."""
    return f"{prefix}_{name}" if prefix else name


@dataclass(frozen=True)
class Namer:
    """How one module spells what it emits: the spec's `prefix: NAME` puts `NAME_` first.

    Every file-scope name of the output goes through `c_name` exactly once: the
    registry applies it to each of its entries (so a new entry gets the prefix with
    nothing more to do), and the methods below to names outside the registry's
    tables (a field's handle type, a message naming a handle). Never apply it to a
    name that is already the output's, nor to the spec's hooks, fields or includes.
    """

    prefix: str = ""  # "" when the spec has no `prefix`: names exactly as before

    def c_name(self, name: str) -> str:
        return c_name(self.prefix, name)

    def handle(self, type_name: str, policy_name: str) -> str:
        return self.c_name(handle_name(type_name, policy_name))

    def weak(self, type_name: str, policy_name: str) -> str:
        return self.c_name(weak_name(type_name, policy_name))

    def value_struct(self, type_name: str, policy_name: str) -> str:
        return self.c_name(value_struct_name(type_name, policy_name))

    def tag_type(self, type_name: str) -> str:
        return self.c_name(tag_type_name(type_name))

    def tag_constant(self, type_name: str, variant_name: str) -> str:
        return self.c_name(tag_constant_name(type_name, variant_name))


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
