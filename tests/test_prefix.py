"""`prefix: NAME` puts `NAME_` before every generated identifier (DESIGN.md, "What a
compiler emits into hot loops" and "Fine print for part two").

- Two specs that are both module `expr` and both define `Expr`, under prefixes `a` and
  `b` (tests/specs/prefixed_a.yaml, prefixed_b.yaml), are generated into a/ and b/,
  compiled -Werror and linked into one program with the runtime that uses both
  (tests/c/test_prefix.c), in every configuration of test_c_programs.py and with
  PM_METRICS.
- Every file-scope identifier the prefixed output defines (clang's AST, tests/cnames.py)
  starts with the prefix, except the spec's hooks, which are the user's.
- A bad prefix is an error at its line:column; the clash table holds the names as
  emitted, prefixed. Without `prefix` the output is byte for byte as before: the
  goldens of test_golden.py (prefixed_a has a golden of its own).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cnames import file_scope_identifiers
from conftest import RUNTIME, RUNTIME_SOURCES, SPECS, compile_c, generate, have
from test_c_programs import C_TESTS, CONFIGS, run_program
from test_spec_errors import assert_reported, case, note

SPEC_A = SPECS / "prefixed_a.yaml"
SPEC_B = SPECS / "prefixed_b.yaml"
HOOKS = {"obj_clone", "obj_drop"}  # prefixed_a.yaml's (weak_support.c): never prefixed


@pytest.fixture(scope="module")
def two_modules(tmp_path_factory) -> Path:
    """Both specs generated under one folder: a/expr.[ch] and b/expr.[ch]."""
    root = tmp_path_factory.mktemp("two_modules")
    generate(SPEC_A, root / "a")
    generate(SPEC_B, root / "b")
    return root


def _build_and_run(root: Path, config: str, extra: list[str], binary: Path) -> None:
    compiler, flags, _, _ = CONFIGS[config]
    sources = [C_TESTS / "test_prefix.c", root / "a" / "expr.c", root / "b" / "expr.c",
               SPECS / "weak_support.c", *RUNTIME_SOURCES]
    compile_c(compiler, [*flags, *extra], sources, [RUNTIME, root, SPECS, C_TESTS], binary)
    run_program(binary, "test_prefix", config)


@pytest.mark.parametrize("config", CONFIGS)
def test_two_modules_defining_expr_link_into_one_program(config: str, two_modules: Path,
                                                         tmp_path: Path) -> None:
    _build_and_run(two_modules, config, [], tmp_path / f"test_prefix-{config}")


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_two_modules_with_metrics(compiler: str, two_modules: Path, tmp_path: Path) -> None:
    # <module>_metrics and its table are file-scope names too: a_expr_metrics, b_expr_metrics.
    _build_and_run(two_modules, compiler, ["-DPM_METRICS"], tmp_path / f"metrics-{compiler}")


@pytest.mark.skipif(not have("clang"), reason="needs clang for the AST")
@pytest.mark.parametrize("defines", [[], ["PM_METRICS"], ["PM_DEBUG"]],
                         ids=["plain", "metrics", "debug"])
@pytest.mark.parametrize("prefix", ["a", "b"])
def test_every_identifier_of_a_prefixed_module_has_the_prefix(
        prefix: str, defines: list[str], two_modules: Path) -> None:
    out = two_modules / prefix
    emitted = file_scope_identifiers(sorted(out.glob("*.[ch]")), [RUNTIME, out, SPECS],
                                     defines)
    unprefixed = sorted(name for name in emitted
                        if not name.startswith(f"{prefix}_") and name not in HOOKS)
    assert not unprefixed, unprefixed
    # Types, functions, descriptors, value structs, weak references, macros, the guard.
    assert {f"{prefix}_PMGEN_expr_H", f"{prefix}_Managed_Expr_SingleThreaded",
            f"{prefix}_Managed_Expr_SingleThreaded_new", f"{prefix}_Expr_SingleThreaded",
            f"{prefix}_Expr_SingleThreaded_drop", f"{prefix}_Managed_Expr_SingleThreaded__type",
            f"{prefix}_expr_dup"} <= set(emitted)
    if prefix == "a":
        assert {"a_Weak_Tag_Frozen", "a_Managed_Expr_SingleThreaded_to_Frozen",
                "a_Managed_Expr_Frozen__family", "a_expr_load", "a_expr_get",
                *HOOKS} <= set(emitted)
        if defines == ["PM_METRICS"]:
            assert {"a_expr_metrics", "a_expr__all_metrics",
                    "a_Managed_Count_ThreadSafe_metrics"} <= set(emitted)


# --- errors -----------------------------------------------------------------------------

def bad(line: str, at: str, *words: str, id: str, notes: tuple = ()):
    """A spec whose third line is `line` (the prefix) and whose error is at `at`."""
    return case(f"pmgen: 1\nmodule: m\n{line}\ntypes:\n  A: {{ctype: int, copy: trivial}}\n",
                at, *words, notes=notes, id=id)


BAD_PREFIXES = [
    bad("prefix: 12", "3:9", "'prefix' must be a string", "int 12", id="not-a-string"),
    bad("prefix:", "3:8", "'prefix' must be a string", "null", id="empty-value"),
    bad("prefix: [a, b]", "3:9", "'prefix' must be a string", "a list", id="a-list"),
    bad("prefix: ''", "3:9", "prefix ''", "not a C identifier", id="empty-string"),
    bad("prefix: my-app", "3:9", "prefix 'my-app'", "not a C identifier", id="dash"),
    bad("prefix: 2d", "3:9", "prefix '2d'", "not a C identifier", "not starting with a digit",
        id="digit-first"),
    bad("prefix: _app", "3:9", "prefix '_app'", "starts with '_'", "reserved", id="underscore"),
    bad("prefix: int", "3:9", "prefix 'int'", "C keyword", id="c-keyword"),
    bad("prefix: class", "3:9", "prefix 'class'", "keyword of C++ or GNU C", id="c++-keyword"),
    bad("prefix: typeof", "3:9", "prefix 'typeof'", "keyword of C++ or GNU C", id="gnu-keyword"),
    bad("prefix: pm", "3:9", "prefix 'pm'", "runtime's namespace", "(pm_, PM_)", id="pm"),
    bad("prefix: PM", "3:9", "prefix 'PM'", "runtime's namespace", id="PM"),
    bad("prefix: pm_app", "3:9", "prefix 'pm_app'", "runtime's namespace", id="pm_-prefixed"),
    bad("prefix: app\nprefix: app", "4:1", "duplicate key 'prefix'",
        notes=(note("3:1", "first defined here"),), id="given-twice"),
]


# The clash table holds the names as emitted: a hook may not take a prefixed name.
PREFIXED_CLASHES = [
    case("""\
        pmgen: 1
        module: m
        prefix: app
        types:
          A: {ctype: int, copy: trivial}
          B: {ctype: struct b, clone: app_Managed_A_SingleThreaded_dup}
        """, "6:31", "clone hook", "'app_Managed_A_SingleThreaded_dup'",
         "'A' under 'SingleThreaded'", notes=(note("5:3", "'A' under 'SingleThreaded'"),),
         id="hook-named-like-a-function"),
    case("""\
        pmgen: 1
        module: m
        prefix: app
        types:
          B: {ctype: struct b, clone: app_m_dup}
        """, "5:31", "clone hook", "'app_m_dup'", "module 'm'",
         notes=(note("2:9", "module 'm'"),), id="hook-named-like-a-module-macro"),
]


@pytest.mark.parametrize("spec, at, words, notes", BAD_PREFIXES + PREFIXED_CLASHES)
def test_reported_at_its_place(tmp_path: Path, spec: str, at: str, words: tuple[str, ...],
                               notes: tuple) -> None:
    assert_reported(tmp_path, spec, at, words, notes)


def test_names_that_clash_only_unprefixed_are_free(tmp_path: Path) -> None:
    # Unprefixed, the hook would be A's _dup, and type `size` under policy `t` would
    # define `size_t`; with the prefix neither is a name the output defines.
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        pmgen: 1
        module: m
        prefix: app
        includes: ["<stdint.h>"]
        policies:
          t: {counter: plain, cell: none}
        types:
          A: {ctype: int64_t, clone: Managed_A_SingleThreaded_dup}
          size:
            fields: {n: int64_t}
            policies: [t]
        """), encoding="utf-8")
    out = generate(spec, tmp_path / "out")
    (tmp_path / "hooks.c").write_text(textwrap.dedent("""\
        #include "m.h"
        pm_status Managed_A_SingleThreaded_dup(int64_t *dst, const int64_t *src) {
            *dst = *src;
            return PM_OK;
        }
        int main(void) {
            app_Managed_size_t h = {0};
            app_size_t v = {41};
            if (app_m_new(&h, v) != PM_OK) return 1;
            app_Managed_A_SingleThreaded a = {0}, b;
            if (app_m_new(&a, 1) != PM_OK) return 2;
            b = app_m_dup(a);
            int64_t *w = NULL; /* a copy on write, by the clone hook */
            if (app_m_write(&b, &w) != PM_OK || b.box == a.box) return 3;
            *w = app_m_get(h)->n + 1;
            int ok = *w == 42;
            app_m_release_write(b);
            app_m_drop(&a);
            app_m_drop(&b);
            app_m_drop(&h);
            return ok ? 0 : 4;
        }
        """), encoding="utf-8")
    binary = tmp_path / "free"
    compile_c("gcc", ["-O1"], [tmp_path / "hooks.c", out / "m.c", *RUNTIME_SOURCES],
              [RUNTIME, out], binary)
    run_program(binary, "free", "gcc")
