"""tests/cnames.py: the file-scope identifiers of C files, from clang's JSON AST.

Small hand-written headers and sources in tmp_path check each kind of declaration,
what is left out (members, parameters, locals, labels, other headers' names) and how
macro-produced declarations are placed; one test runs on the generated all_policies
files.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cnames import ClangError, defined_macros, file_scope_identifiers
from conftest import RUNTIME, SPECS, generate, have

pytestmark = pytest.mark.skipif(not have("clang"), reason="needs clang")

# Included by a.h; none of its names may be reported for a.h. It expands a.h's DECL
# (defined before the #include), so `theirs` is declared here, not in a.h; compiled
# alone, other.h has no DECL and does not declare `theirs`.
OTHER_H = """\
#ifndef OTHER_H
#define OTHER_H
#define OTHER_DECL(n) int n##_pasted(void);
#define OTHER_FULL_DECL int other_full(void);
typedef int other_t;
struct other_tag { int other_member; };
enum other_enum { OTHER_A, OTHER_B };
extern int other_var;
int other_fn(int other_param);
static inline int other_inline(void) { return 0; }
#ifdef DECL
DECL(theirs)
#endif
#endif
"""

A_H = """\
/* a.h: a guarded header. #define NOT_A_MACRO in a comment */
#ifndef A_H
#define A_H
#define DECL(n) int n(void);
#include "other.h"
#  define TWICE(first, \\
                second) \\
    ((first) + (second))
#define PLAIN 42 // #define NOT_EITHER
typedef struct Pair {
    int left;
    union {
        int as_int;
        struct { short lo, hi; };
    };
    struct Nested { int deep; } nested;
} Pair;
union Shape { int circle; float square; };
enum Color { RED, GREEN = 3 };
enum { ANONYMOUS_CONSTANT };
static inline int square(int operand) { int result = operand * operand; return result; }
extern int counter;
static const char *const greeting = "/* not a comment */";
DECL(foo)
OTHER_DECL(mine)
OTHER_FULL_DECL
struct Opaque *opaque_ptr;
int takes_proto(struct ProtoScoped *arg);
#ifdef WITH_EXTRA
int extra_fn(void);
#endif
#endif
"""

A_C = """\
#include "a.h"
static int hidden_state;
int counter = 1;
static void helper(int param);
int foo(void)
{
    struct FunctionLocal { int x; } local = {0};
    int i;
    for (i = 0; i < 3; i++) {
        if (i == 2)
            goto done;
    }
done:
    helper(local.x);
    return counter + hidden_state;
}
static void helper(int param) { hidden_state += param; }
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    write(tmp_path, "other.h", OTHER_H)
    return write(tmp_path, "a.h", A_H), write(tmp_path, "a.c", A_C)


def test_header_kinds(sources: tuple[Path, Path]) -> None:
    header, _ = sources
    names = file_scope_identifiers([header], [header.parent])
    assert names == {
        # Include guard and other macros; the function-like macro's parameters
        # and the names in comments and continuation lines are not names.
        "A_H": {"macro"}, "DECL": {"macro"}, "TWICE": {"macro"}, "PLAIN": {"macro"},
        # A typedef'd struct: tag and typedef; a struct declared inside it is file
        # scope in C; its members and the anonymous union's are not.
        "Pair": {"struct-tag", "typedef"}, "Nested": {"struct-tag"},
        "Shape": {"union-tag"},
        "Color": {"enum-tag"}, "RED": {"enum-constant"}, "GREEN": {"enum-constant"},
        "ANONYMOUS_CONSTANT": {"enum-constant"},
        "square": {"function"},
        "counter": {"variable"}, "greeting": {"variable"},
        # Declared by macro expansions in a.h: the name from an argument, a pasted
        # name, and a whole declaration from other.h's macro.
        "foo": {"function"}, "mine_pasted": {"function"}, "other_full": {"function"},
        # A tag first named in a file-scope declaration; the tag in the parameter
        # list has prototype scope.
        "Opaque": {"struct-tag"}, "opaque_ptr": {"variable"},
        "takes_proto": {"function"},
    }


def test_included_header_names_are_left_out(sources: tuple[Path, Path]) -> None:
    header, _ = sources
    names = file_scope_identifiers([header], [header.parent])
    for name in ("OTHER_H", "OTHER_DECL", "OTHER_FULL_DECL", "other_t", "other_tag",
                 "other_member", "other_enum", "OTHER_A", "other_var", "other_fn",
                 "other_param", "other_inline", "theirs"):
        assert name not in names
    # ...and appear when other.h is one of the files (`theirs` as seen in a.h's
    # translation unit: the results of the files are merged).
    both = file_scope_identifiers([header, header.parent / "other.h"], [])
    assert both["theirs"] == {"function"}
    assert both["other_tag"] == {"struct-tag"}
    assert both["OTHER_A"] == {"enum-constant"}
    assert both["other_inline"] == {"function"}
    assert "other_member" not in both and "other_param" not in both


def test_source_and_header_merge(sources: tuple[Path, Path]) -> None:
    header, source = sources
    only_source = file_scope_identifiers([source], [header.parent])
    assert only_source == {"hidden_state": {"variable"}, "counter": {"variable"},
                           "helper": {"function"}, "foo": {"function"}}
    merged = file_scope_identifiers([header, source], [header.parent])
    assert merged["counter"] == {"variable"}
    assert merged["foo"] == {"function"}
    assert merged["Pair"] == {"struct-tag", "typedef"}
    # Parameters, locals, labels, tags local to a body and members are not file scope.
    for name in ("param", "operand", "result", "local", "i", "done", "FunctionLocal",
                 "x", "left", "as_int", "lo", "hi", "deep", "circle", "ProtoScoped", "arg"):
        assert name not in merged


def test_elided_file_names_are_tracked(tmp_path: Path) -> None:
    """clang names a location's file only when it changes: a declaration whose
    location omits it is in the file of the last location printed, which may be a
    spellingLoc or a range.end, and never an includedFrom."""
    write(tmp_path, "inc.h", """\
        int inc_first(void);   /* loc: inc.h, includedFrom: main.h */
        int inc_second(void);  /* loc: file omitted, still inc.h */
        """)
    write(tmp_path, "enum_body.inc", "{ SPLICED_A, SPLICED_B }\n")
    main = write(tmp_path, "main.h", """\
        #define DECL(n) int n(void);
        #include "inc.h"
        DECL(after_include)  /* spellingLoc: main.h; expansionLoc: file omitted */
        enum Spliced         /* range.end: enum_body.inc; constants: file omitted */
        #include "enum_body.inc"
        ;
        enum { MAIN_CONSTANT };
        """)
    assert file_scope_identifiers([main], []) == {
        "DECL": {"macro"}, "after_include": {"function"}, "Spliced": {"enum-tag"},
        "MAIN_CONSTANT": {"enum-constant"}}
    inc = file_scope_identifiers([tmp_path / "inc.h"], [])
    assert inc == {"inc_first": {"function"}, "inc_second": {"function"}}


def test_defines_select_branches(sources: tuple[Path, Path]) -> None:
    header, _ = sources
    assert "extra_fn" not in file_scope_identifiers([header], [header.parent])
    with_extra = file_scope_identifiers([header], [header.parent], ["WITH_EXTRA=1"])
    assert with_extra["extra_fn"] == {"function"}


def test_defined_macros_text_scan() -> None:
    text = ('#define ONE 1\n'
            '  #  define TWO(a, b) \\\n'
            '  a + \\\n'
            '#define NOT_A_DIRECTIVE\n'
            '/*\n#define COMMENTED\n*/ #define AFTER_COMMENT\n'
            'const char *s = "/*"; \n#define AFTER_STRING\n'
            '// line comment \\\n#define CONTINUED_COMMENT\n'
            '#undef ONE\n#ifdef X\n#define IN_BRANCH\n#endif\n')
    assert defined_macros(text) == ["ONE", "TWO", "AFTER_COMMENT", "AFTER_STRING",
                                    "IN_BRANCH"]


def test_clang_error_is_raised(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.h", "int broken(void) { return }\n")
    with pytest.raises(ClangError, match="broken"):
        file_scope_identifiers([broken], [])


def test_generated_all_policies(tmp_path: Path) -> None:
    out = generate(SPECS / "all_policies.yaml", tmp_path)
    files = [out / "all_policies.h", out / "all_policies.c"]
    names = file_scope_identifiers(files, [RUNTIME, SPECS, out])
    assert names["Managed_Point_ThreadSafe_dup"] == {"function"}
    assert "typedef" in names["Managed_Point_ThreadSafe"]
    assert names["PMGEN_all_policies_H"] == {"macro"}
    assert names["all_policies_drop"] == {"macro"}
    # From pm.h, the support header and the system headers: not these files' names.
    for name in ("pm_alloc", "pm_status", "PM_VERSION_MAJOR", "size_t", "uint64_t",
                 "point", "blob", "blob_make", "blob_live", "ALL_POLICIES_SUPPORT_H"):
        assert name not in names
    assert all(kinds for kinds in names.values())
