"""The operation registry is the one source of every name the output emits.

Each spec below is rendered, and every identifier its header and source
declare or define at file scope (found by clang, tests/cnames.py) must be one
the registry claimed for clash checks. A name emitted but never claimed could
collide with a user's name or another instance's and only fail at compile time.
The clash tests then show that a claimed name taken twice is a spec error that
points at both places.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnames import file_scope_identifiers
from conftest import ROOT, RUNTIME, SPECS, generate, have
from test_spec_errors import assert_reported, note

sys.path.insert(0, str(ROOT / "gen"))
from pmgen import loader, naming, registry, schema  # noqa: E402

SPEC_FILES = [
    SPECS / "all_policies.yaml",
    SPECS / "faults.yaml",
    SPECS / "weak.yaml",
    SPECS / "prefixed_a.yaml",
    SPECS / "sums.yaml",
    SPECS / "regions.yaml",
    SPECS / "stores.yaml",
    ROOT / "examples" / "items.yaml",
    ROOT / "examples" / "cmake-consumer" / "counters.yaml",
    ROOT / "examples" / "make-consumer" / "pairs.yaml",
    ROOT / "examples" / "meson-consumer" / "lists.yaml",
]


def claimed_names(spec: Path) -> set[str]:
    text = spec.read_text(encoding="utf-8")
    module = schema.build(loader.load(text, str(spec)), str(spec))
    claims = registry.claims(module.name, module.location, module.instances, module.namer)
    return {c.name for c in claims}


@pytest.mark.skipif(not have("clang"), reason="needs clang for the AST")
@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("defines", [[], ["PM_METRICS"], ["PM_DEBUG"]],
                         ids=["plain", "metrics", "debug"])
def test_every_emitted_identifier_is_claimed(spec: Path, defines: list[str],
                                             tmp_path: Path) -> None:
    out = generate(spec, tmp_path)
    files = sorted(out.glob("*.[ch]"))
    # Hooks and C types come from the spec's own headers, beside it.
    includes = [RUNTIME, out, spec.parent, ROOT / "tests" / "c"]
    emitted = file_scope_identifiers(files, includes, defines)
    claimed = claimed_names(spec)
    unclaimed = sorted(set(emitted) - claimed)
    assert not unclaimed, f"emitted but not claimed by the registry: {unclaimed}"
    assert len(emitted) > 20


def test_generic_macros_come_from_the_registry() -> None:
    spec = SPECS / "all_policies.yaml"
    text = spec.read_text(encoding="utf-8")
    module = schema.build(loader.load(text, str(spec)), str(spec))
    macros = {name: handles for name, _, _, handles in
              registry.generic_macros(module.name, module.instances, module.namer)}
    # _load only for copy: trivial types, the _wait forms only under a lock.
    assert "Managed_Blob_ThreadSafe" not in macros["load"]
    assert "Managed_Point_Frozen" in macros["load"]
    assert all(h.endswith("_ThreadSafe") for h in macros["read_wait"])
    assert not any(h.endswith(("_Local", "_Frozen")) for h in macros["write_shared"])
    assert len(macros["dup"]) == len(module.instances)


# --- clashes on names the old generator never claimed ---------------------------------------

def test_policy_named_like_an_internal_helper_clashes(tmp_path: Path) -> None:
    # A's descriptor under P is Managed_A_P__type, the handle of A under policy P__type.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        policies:
          P: {counter: plain, cell: none}
          P__type: {counter: plain, cell: none}
        types:
          A:
            ctype: int
            copy: trivial
            policies: [P, P__type]
        """)
    assert_reported(tmp_path, spec, "10:19", ("'A' under 'P__type'", "'Managed_A_P__type'",
                                              "'A' under 'P'"),
                    (note("10:16", "'A' under 'P'"),))


def test_handle_named_like_another_instances_function(tmp_path: Path) -> None:
    # X_new under P has handle Managed_X_new_P; X under new_P has the same handle name.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        policies:
          P: {counter: plain, cell: none}
          new_P: {counter: plain, cell: none}
        types:
          X_new:
            ctype: int
            copy: trivial
            policies: [P]
          X:
            ctype: int
            copy: trivial
            policies: [new_P]
        """)
    assert_reported(tmp_path, spec, "14:16", ("'X' under 'new_P'", "'Managed_X_new_P'"),
                    (note("10:16", "'X_new' under 'P'"),))


def test_hook_named_like_a_generated_function(tmp_path: Path) -> None:
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: int, copy: trivial}
          B:
            ctype: struct b
            clone: Managed_A_SingleThreaded_dup
        """)
    assert_reported(tmp_path, spec, "7:12", ("clone hook", "'Managed_A_SingleThreaded_dup'",
                                             "'A' under 'SingleThreaded'"),
                    (note("4:3", "'A' under 'SingleThreaded'"),))


def test_hook_named_like_a_module_macro(tmp_path: Path) -> None:
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          B:
            ctype: struct b
            clone: m_dup
        """)
    assert_reported(tmp_path, spec, "6:12", ("clone hook", "'m_dup'", "module 'm'"),
                    (note("2:9", "module 'm'"),))


def test_one_hook_for_two_c_types_clashes(tmp_path: Path) -> None:
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: struct a
            clone: copy_any
          B:
            ctype: struct b
            clone: copy_any
        """)
    assert_reported(tmp_path, spec, "9:12", ("'copy_any'", "'struct b'", "'struct a'"),
                    (note("6:12", "'struct a'"),))


def test_clone_and_drop_hook_of_one_name_clash(tmp_path: Path) -> None:
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: struct a
            clone: a_hook
            drop: a_hook
        """)
    assert_reported(tmp_path, spec, "7:11", ("drop hook", "'a_hook'", "clone hook"),
                    (note("6:12", "clone hook"),))


def test_one_hook_for_two_types_of_one_c_type_is_fine(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        pmgen: 1
        module: m
        includes: ["<stdint.h>"]
        types:
          A: {ctype: int64_t, clone: copy_i64, policies: [SingleThreaded, ThreadSafe]}
          B: {ctype: int64_t, clone: copy_i64}
        """), encoding="utf-8")
    out = generate(spec, tmp_path / "out")
    header = (out / "m.h").read_text(encoding="utf-8")
    assert header.count("pm_status copy_i64(int64_t *dst, const int64_t *src);") == 1


def _locals_of_functions(path: Path, includes: list[Path], names: set[str]) -> set[str]:
    """Parameter and local variable names of the functions `names` defined in `path`."""
    cmd = ["clang", "-Xclang", "-ast-dump=json", "-fsyntax-only", "-std=c11",
           *(f"-I{d}" for d in includes), "-x", "c", str(path)]
    tree = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    found: set[str] = set()
    for decl in tree.get("inner", []):
        if decl.get("kind") != "FunctionDecl" or decl.get("name") not in names:
            continue
        todo = list(decl.get("inner", []))
        while todo:
            node = todo.pop()
            if node.get("kind") in ("ParmVarDecl", "VarDecl") and node.get("name"):
                found.add(node["name"])
            todo += node.get("inner", [])
    return found


@pytest.mark.skipif(not have("clang"), reason="needs clang for the AST")
def test_generated_functions_use_only_the_reserved_local_names(tmp_path: Path) -> None:
    # A spec type or hook named like one of these is refused (naming.GENERATED_LOCALS):
    # the list must hold every parameter and local the templates declare.
    used: set[str] = set()
    for spec in (SPECS / "all_policies.yaml", SPECS / "weak.yaml"):
        out = generate(spec, tmp_path / spec.stem)
        claimed = claimed_names(spec)
        for path in sorted(out.glob("*.[ch]")):
            used |= _locals_of_functions(path, [RUNTIME, out, SPECS], claimed)
    assert used, "no generated function found"
    assert used <= naming.GENERATED_LOCALS, sorted(used - naming.GENERATED_LOCALS)


# --- conversion between policies: Managed_N_P_to_Q, one name per ordered pair --------------

# N converts from A to B as Managed_N_A_to_B: the handle of N under policy A_to_B.
POLICY_HANDLE = """\
    policies:
      A: {counter: plain, cell: none}
      B: {counter: plain, cell: none}
      A_to_B: {counter: plain, cell: none}
    types:
      N: {ctype: int, copy: trivial, policies: [A, B, A_to_B]}
    """
# X converts from P to Q as Managed_X_P_to_Q: the handle of type X_P under policy to_Q.
TYPE_HANDLE = """\
    policies:
      P: {counter: plain, cell: none}
      Q: {counter: atomic, cell: none}
      to_Q: {counter: plain, cell: none}
    types:
      X: {ctype: int, copy: trivial, policies: [P, Q]}
      X_P: {ctype: int, copy: trivial, policies: [to_Q]}
    """
CONVERSION_CLASHES = [
    pytest.param(POLICY_HANDLE, "8:51", ("'N' under 'A_to_B'", "'Managed_N_A_to_B'"), "8:45",
                 "'N' under 'A'", id="another-policy's-handle"),
    pytest.param(TYPE_HANDLE, "9:47", ("'X_P' under 'to_Q'", "'Managed_X_P_to_Q'"), "8:45",
                 "'X' under 'P'", id="another-type's-handle"),
]


@pytest.mark.parametrize("body, at, words, note_at, owner", CONVERSION_CLASHES)
def test_conversion_names_are_claimed(tmp_path: Path, body: str, at: str,
                                      words: tuple[str, ...], note_at: str, owner: str) -> None:
    spec = "pmgen: 1\nmodule: m\n" + textwrap.dedent(body)
    assert_reported(tmp_path, spec, at, (*words, owner), (note(note_at, owner),))


def test_every_ordered_pair_of_policies_converts() -> None:
    names = claimed_names(SPECS / "all_policies.yaml")
    policies = ["SingleThreaded", "ThreadSafe", "Local", "Frozen"]
    for p in policies:
        for q in policies:
            assert (f"Managed_Node_{p}_to_{q}" in names) == (p != q)
    # A type under one policy converts to nothing; Tally's contexts give it two.
    assert not any(name.startswith("Managed_Wide_ThreadSafe_to_") for name in names)
    assert {"Managed_Tally_SingleThreaded_to_ThreadSafe",
            "Managed_Tally_ThreadSafe_to_SingleThreaded"} <= names
