"""Bad specs: every one is reported as `spec.yaml:LINE:COL: error: MESSAGE`.

The contract (DESIGN.md, "The spec (YAML), version 1" and "Qualities"): a bad spec
gets exactly one `file:line:col: error: ...` line on stderr, optionally followed by
`file:line:col: note: ...` lines pointing at related places; exit status 1; no
traceback; and no output file is written, anywhere.

Each case below is a small spec, the line:column the error must point at, and
words the message must contain (so the message says what is wrong and what is
expected). Cases with a related place also give their notes.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import run_pmgen

ERROR_LINE = re.compile(r"spec\.yaml:(\d+):(\d+): error: (\S.*)")
NOTE_LINE = re.compile(r"spec\.yaml:(\d+):(\d+): note: (\S.*)")


class Note(NamedTuple):
    at: str  # "LINE:COL"
    words: tuple[str, ...]


def note(at: str, *words: str) -> Note:
    return Note(at, words)


def case(spec: str, at: str, *words: str, notes: tuple[Note, ...] = (), id: str):
    """One row of a table: spec text, where the error points, words of its message."""
    return pytest.param(textwrap.dedent(spec), at, words, notes, id=id)


def run_bad_spec(tmp_path: Path, spec: str) -> tuple[str, list[str]]:
    """Run `pmgen spec.yaml -o out` on a bad spec; check the failure, return stderr lines."""
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir()), "a bad spec writes no output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"], "nothing else written"
    assert result.stderr.endswith("\n")
    return result.stderr, result.stderr.splitlines()


def assert_reported(tmp_path: Path, spec: str, at: str, words: tuple[str, ...],
                    notes: tuple[Note, ...] = ()) -> str:
    """The spec fails with one error at `at` whose message has `words`, then `notes`."""
    stderr, lines = run_bad_spec(tmp_path, spec)
    first = ERROR_LINE.fullmatch(lines[0])
    assert first, f"not 'spec.yaml:LINE:COL: error: MESSAGE': {stderr!r}"
    assert f"{first[1]}:{first[2]}" == at, stderr
    message = first[3]
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert len(lines) == 1 + len(notes), f"expected {len(notes)} note(s): {stderr!r}"
    for line, expected in zip(lines[1:], notes):
        found = NOTE_LINE.fullmatch(line)
        assert found, f"not 'spec.yaml:LINE:COL: note: TEXT': {line!r}"
        assert f"{found[1]}:{found[2]}" == expected.at, stderr
        for word in expected.words:
            assert word in found[3], f"{word!r} not in note {found[3]!r}"
    return message


# --- the file is not a spec at all -----------------------------------------------------

NOT_A_SPEC = [
    case("""\
        pmgen: 1
        module: m
        types: [A, B
        """, "4:1", "not valid YAML", id="unclosed-bracket"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
           copy: trivial
        """, "6:4", "not valid YAML", id="bad-indentation"),
    case("""\
        pmgen: 1
         module: m
        """, "2:8", "not valid YAML", id="indented-second-key"),
    case("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: int, copy: trivial}
        ---
        pmgen: 1
        """, "6:1", "one YAML document", "second", id="second-document"),
    case("", "1:1", "empty", id="empty-file"),
    case("# only a comment\n", "1:1", "empty", id="only-a-comment"),
    case("---\n...\n", "1:1", "empty", id="empty-document"),
    case("- pmgen: 1\n", "1:1", "the spec must be a mapping", "list", id="a-list"),
    case("""\
        pmgen: 1
        module: m
        types: &t
          A: {ctype: int, copy: trivial, policies: *t}
        """, "3:8", "recursive alias", id="recursive-alias"),
    case("""\
        pmgen: 1
        module: m
        types: !custom
          A: {ctype: int, copy: trivial}
        """, "3:8", "unsupported YAML tag", "'!custom'", id="custom-tag"),
    case("""\
        pmgen: 1
        module: m
        types:
          <<: {A: {ctype: int, copy: trivial}}
        """, "4:3", "merge keys", id="merge-key"),
]


@pytest.mark.parametrize("spec, at, words, notes", NOT_A_SPEC)
def test_not_a_spec(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


def test_deeply_nested_yaml_is_an_error_not_a_crash(tmp_path):
    spec = "pmgen: 1\nmodule: m\ntypes: " + "[" * 5000 + "]" * 5000 + "\n"
    assert_reported(tmp_path, spec, "1:1", ("nested too deeply",))


# --- keys: unknown, duplicate, missing -------------------------------------------------

KEYS = [
    case("""\
        pmgen: 1
        module: m
        typs: {}
        """, "3:1", "unknown key 'typs'", "in the spec", "expected one of", "types",
         id="unknown-top-level-key"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            colour: red
        """, "7:5", "unknown key 'colour'", "type 'A'", "expected one of", "ctype",
         id="unknown-key-in-type"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Local: {counter: plain, cell: none, fair: true}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:39", "unknown key 'fair'", "policy 'Local'", "counter, cell",
         id="unknown-key-in-policy"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields:
              next: {managed: Node, polcy: ThreadSafe}
        """, "6:29", "unknown key 'polcy'", "field 'next'", "managed, weak, policy",
         id="unknown-key-in-managed-field"),
    case("""\
        pmgen: 1
        module: m
        module: n
        types:
          A: {ctype: int, copy: trivial}
        """, "3:1", "duplicate key 'module'", notes=(note("2:1", "'module'", "first"),),
         id="duplicate-top-level-key"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            ctype: long
        """, "7:5", "duplicate key 'ctype'", notes=(note("5:5", "'ctype'", "first"),),
         id="duplicate-key-in-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: int, copy: trivial}
          B: {ctype: int, copy: trivial}
          A: {ctype: long, copy: trivial}
        """, "6:3", "duplicate key 'A'", notes=(note("4:3", "'A'", "first"),),
         id="duplicate-type"),
    case("""\
        module: m
        types:
          A: {ctype: int, copy: trivial}
        """, "1:1", "missing", "'pmgen'", "version 1", id="missing-pmgen"),
    case("""\
        pmgen: 1
        types:
          A: {ctype: int, copy: trivial}
        """, "1:1", "missing", "'module'", id="missing-module"),
    case("""\
        pmgen: 1
        module: m
        """, "1:1", "missing", "'types'", id="missing-types"),
    case("""\
        pmgen: 1
        module: m
        types: {}
        """, "3:8", "'types' is empty", id="no-types"),
    case("""\
        pmgen: 2
        module: m
        types:
          A: {ctype: int, copy: trivial}
        """, "1:8", "unsupported spec version 2", "version 1", id="unsupported-version"),
    case("""\
        pmgen: "1"
        module: m
        types:
          A: {ctype: int, copy: trivial}
        """, "1:8", "'pmgen' must be the integer 1", "str '1'", "without quotes",
         id="version-as-string"),
]


@pytest.mark.parametrize("spec, at, words, notes", KEYS)
def test_keys(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


# --- policies, types, contexts, building blocks that do not exist ----------------------

UNKNOWN_NAMES = [
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            policies: [SingleThreaded, Frozen]
        """, "7:32", "unknown policy 'Frozen'", "'policies' of 'A'", "SingleThreaded, ThreadSafe",
         id="unknown-policy-of-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: int, copy: trivial}
          B:
            fields:
              a: {managed: A, policy: Frozen}
        """, "7:31", "unknown policy 'Frozen'", "field 'a' of 'B'", "known policies",
         id="unknown-policy-of-field"),
    case("""\
        pmgen: 1
        module: m
        types:
          B:
            fields:
              a: {managed: Missing}
        """, "6:20", "field 'a' of 'B'", "'Missing'", "does not define",
         id="managed-field-to-unknown-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            contexts: [sync, gpu]
        """, "7:22", "unknown context 'gpu'", "sync, threadsafe, async, parallel",
         id="unknown-context"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Odd: {counter: weird, cell: none}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:18", "unknown counter 'weird'", "policy 'Odd'", "plain, atomic",
         id="unknown-counter"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Odd: {counter: plain, cell: weird}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:31", "unknown cell 'weird'", "policy 'Odd'", "borrow, rwlock, none",
         id="unknown-cell"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Odd: {cell: none}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:8", "policy 'Odd' is missing 'counter'", "plain, atomic",
         id="policy-without-counter"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Odd: {counter: plain, cell: rwlock}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:8", "policy 'Odd'", "'plain' with cell 'rwlock'", "not a supported combination",
         "plain + borrow", "plain + none", "atomic + rwlock", "atomic + none",
         id="combination-plain-rwlock"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Odd: {counter: atomic, cell: borrow}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:8", "policy 'Odd'", "'atomic' with cell 'borrow'", "not a supported combination",
         id="combination-atomic-borrow"),
    case("""\
        pmgen: 1
        module: m
        policies:
          ThreadSafe: {counter: atomic, cell: none}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:3", "'ThreadSafe' is built in", "cannot be redefined",
         id="redefine-builtin-policy"),
    case("""\
        pmgen: 1
        module: m
        policies:
          SingleThreaded: {counter: plain, cell: borrow}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:3", "'SingleThreaded' is built in", "cannot be redefined",
         id="redefine-builtin-policy-identically"),
]


@pytest.mark.parametrize("spec, at, words, notes", UNKNOWN_NAMES)
def test_unknown_names(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


# --- names that cannot be C names --------------------------------------------------------

NOT_C_NAMES = [
    case("""\
        pmgen: 1
        module: m
        types:
          3D: {ctype: int, copy: trivial}
        """, "4:3", "type name '3D'", "not a C identifier", "letters, digits and '_'",
         id="type-name-starts-with-digit"),
    case("""\
        pmgen: 1
        module: m
        types:
          my-type: {ctype: int, copy: trivial}
        """, "4:3", "type name 'my-type'", "not a C identifier", id="type-name-with-dash"),
    case("""\
        pmgen: 1
        module: m
        policies:
          my-policy: {counter: atomic, cell: none}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:3", "policy name 'my-policy'", "not a C identifier", id="policy-name"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            fields:
              my field: int
        """, "6:7", "field name 'my field'", "type 'A'", "not a C identifier",
         id="field-name"),
    case("""\
        pmgen: 1
        module: m
        types:
          Buffer:
            ctype: struct buffer
            clone: buf clone
        """, "6:12", "clone hook 'buf clone'", "type 'Buffer'", "not a C identifier",
         id="hook-name"),
    case("""\
        pmgen: 1
        module: m
        types:
          Buffer:
            ctype: struct buffer
            clone: buffer_clone
            drop: free()
        """, "7:11", "drop hook 'free()'", "not a C identifier", id="drop-hook-name"),
    case("""\
        pmgen: 1
        module: my-module
        types:
          A: {ctype: int, copy: trivial}
        """, "2:9", "module 'my-module'", "not a C identifier", id="module-name"),
    case("""\
        pmgen: 1
        module: m
        types:
          int: {ctype: int, copy: trivial}
        """, "4:3", "type name 'int'", "C keyword", id="type-name-is-keyword"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            fields:
              return: int
        """, "6:7", "field name 'return'", "C keyword", id="field-name-is-keyword"),
    case("""\
        pmgen: 1
        module: m
        types:
          __x: {ctype: int, copy: trivial}
        """, "4:3", "type name '__x'", "reserved", id="reserved-double-underscore"),
    case("""\
        pmgen: 1
        module: m
        policies:
          _Fast: {counter: atomic, cell: none}
        types:
          A: {ctype: int, copy: trivial}
        """, "4:3", "policy name '_Fast'", "reserved", id="reserved-underscore-capital"),
    case("""\
        pmgen: 1
        module: pm
        types:
          A: {ctype: int, copy: trivial}
        """, "2:9", "module 'pm'", "runtime's header", id="module-shadows-pm-h"),
]


@pytest.mark.parametrize("spec, at, words, notes", NOT_C_NAMES)
def test_names_must_be_c_identifiers(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


# --- names that collide after mangling ----------------------------------------------------

def test_names_colliding_after_mangling_point_at_both_definitions(tmp_path):
    # Managed_<A_B>_<C> and Managed_<A>_<B_C> are the same C name.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        policies:
          C: {counter: plain, cell: borrow}
          B_C: {counter: plain, cell: none}
        types:
          A_B:
            ctype: int
            copy: trivial
            policies: [C]
          A:
            ctype: int
            copy: trivial
            policies: [B_C]
        """)
    message = assert_reported(tmp_path, spec, "14:16",
                              ("'A' under 'B_C'", "'Managed_A_B_C'", "'A_B' under 'C'"),
                              (note("10:16", "'A_B' under 'C'"),))
    assert "rename" in message


def test_struct_names_colliding_after_mangling(tmp_path):
    # Two `fields` types whose value structs are both `A_B_C`.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        policies:
          C: {counter: plain, cell: borrow}
          B_C: {counter: plain, cell: none}
        types:
          A:
            fields: {x: int}
            policies: [B_C]
          A_B:
            fields: {x: int}
            policies: [C]
        """)
    assert_reported(tmp_path, spec, "12:16", ("'A_B' under 'C'", "'Managed_A_B_C'"),
                    (note("9:16", "'A' under 'B_C'"),))


def test_module_macro_colliding_with_a_handle_function(tmp_path):
    # The _Generic macro <module>_<op> is the C name of handle function Managed_X_P_<op> when
    # the module is named Managed_X_P.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: Managed_A_SingleThreaded
        types:
          A: {ctype: int, copy: trivial}
        """)
    assert_reported(tmp_path, spec, "2:9", ("module 'Managed_A_SingleThreaded'",
                                            "'Managed_A_SingleThreaded_new'"),
                    (note("4:3", "'A' under 'SingleThreaded'"),))


# --- the shape of a type -------------------------------------------------------------------

TYPE_SHAPES = [
    case("""\
        pmgen: 1
        module: m
        types:
          Buffer:
            ctype: struct buffer
            drop: buffer_free
        """, "4:3", "type 'Buffer'", "neither 'copy: trivial' nor a 'clone' hook",
         id="ctype-without-copy-or-clone"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
            ctype: struct point
            copy: trivial
            clone: point_clone
        """, "7:5", "'copy: trivial'", "no 'clone' hook", id="trivial-with-clone"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
            ctype: struct point
            copy: trivial
            drop: point_free
        """, "7:5", "'copy: trivial'", "no 'drop' hook", id="trivial-with-drop"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
            ctype: struct point
            copy: deep
        """, "6:11", "'copy' of 'Point' must be 'trivial'", "'clone' hook", id="copy-deep"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
            ctype: struct point
            copy: trivial
            fields: {x: int}
        """, "7:5", "type 'Point' has both 'ctype' and 'fields'",
         notes=(note("5:5", "'ctype'"),), id="ctype-and-fields"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
            policies: [ThreadSafe]
        """, "4:3", "type 'Point' has none of 'ctype', 'fields' and 'variants'",
         id="neither-ctype-nor-fields"),
    case("""\
        pmgen: 1
        module: m
        types:
          Point:
        """, "4:9", "type 'Point' must be a mapping", "null", id="type-without-body"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields: {value: int}
            clone: node_clone
        """, "6:5", "'clone' applies only to 'ctype' types", id="hook-on-fields-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields: {value: int}
            copy: trivial
        """, "6:5", "'copy' applies only to 'ctype' types", id="copy-on-fields-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields: {}
        """, "5:13", "type 'Node' has no fields", id="empty-fields"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields:
              value: 5
        """, "6:14", "field 'value' of 'Node'", "C type", "{managed: TYPE}", "int 5",
         id="field-is-a-number"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields:
              next: {policy: ThreadSafe}
        """, "6:13", "field 'next' of 'Node' has no 'managed'", id="managed-field-without-managed"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            weak: yes please
            ctype: int
            copy: trivial
        """, "5:11", "'weak' of 'Node' must be true or false", id="weak-not-a-bool"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            region: 1
        """, "7:13", "'region' of 'Node' must be true or false, not int 1",
         id="region-not-a-bool"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            region: [true]
            fields:
              value: int
        """, "5:13", "'region' of 'Node' must be true or false, not a list",
         id="region-a-list"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            regoin: true
            ctype: int
            copy: trivial
        """, "5:5", "unknown key 'regoin' in type 'Node'; expected one of: ctype, copy, clone, "
         "drop, fields, variants, policies, contexts, weak, region, store", id="region-misspelt"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            store: "yes"
        """, "7:12", "'store' of 'Node' must be true or false, not str 'yes'",
         id="store-not-a-bool"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            snapshot: 0
            policies: [ThreadSafe]
        """, "7:15", "'snapshot' of 'Node' must be true or false, not int 0",
         id="snapshot-not-a-bool"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int *
            clone: node_clone
            snapshot: false
            policies: [ThreadSafe]
        """, "7:5", "'snapshot' of 'Node' applies only to 'copy: trivial' types",
         id="snapshot-without-copy-trivial"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields:
              n: int
            snapshot: false
            policies: [ThreadSafe]
        """, "7:5", "'snapshot' of 'Node' applies only to 'copy: trivial' types",
         id="snapshot-on-fields"),
    case("""\
        pmgen: 1
        module: m
        policies:
          Frozen: {counter: atomic, cell: none}
        types:
          Node:
            ctype: int
            copy: trivial
            snapshot: false
            policies: [SingleThreaded, Frozen]
        """, "9:5", "'snapshot' of 'Node' applies only under a lock cell (cell: rwlock)",
         "no policy of 'Node' has one", id="snapshot-without-a-lock-cell"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            box_align: 48
        """, "7:16", "'box_align' of 'Node' must be a power of two from 1 to 4096 (bytes; "
         "64 is a cache line), not 48", id="box-align-not-a-power-of-two"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            box_align: 0
        """, "7:16", "'box_align' of 'Node' must be a power of two from 1 to 4096 (bytes; "
         "64 is a cache line), not 0", id="box-align-zero"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            box_align: 8192
        """, "7:16", "'box_align' of 'Node' must be a power of two from 1 to 4096 (bytes; "
         "64 is a cache line), not 8192", id="box-align-above-a-page"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            box_align: cacheline
        """, "7:16", "'box_align' of 'Node' must be a power of two from 1 to 4096 (bytes; "
         "64 is a cache line), not str 'cacheline'", id="box-align-not-an-int"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            ctype: int
            copy: trivial
            box_align: true
        """, "7:16", "'box_align' of 'Node' must be a power of two from 1 to 4096 (bytes; "
         "64 is a cache line), not bool True", id="box-align-a-bool"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            store: {enabled: true}
            fields:
              value: int
        """, "5:12", "'store' of 'Node' must be true or false, not a mapping",
         id="store-a-mapping"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            weak: true
            fields:
              next: {managed: Node, weak: Node}
        """, "7:29", "field 'next' of 'Node' has both 'managed' and 'weak'",
         id="field-both-managed-and-weak"),
    case("""\
        pmgen: 1
        module: m
        types:
          Node:
            fields:
              up: {weak: Nowhere}
        """, "6:18", "field 'up' of 'Node'", "'Nowhere'", "does not define",
         id="weak-field-of-unknown-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          Parent: {ctype: int, copy: trivial}
          Child:
            fields:
              up: {weak: Parent}
        """, "7:18", "field 'up' of 'Child' is a weak reference to 'Parent'",
         "add 'weak: true' to type 'Parent'", notes=(note("4:3", "'Parent' is defined here"),),
         id="weak-field-to-type-without-weak"),
]


@pytest.mark.parametrize("spec, at, words, notes", TYPE_SHAPES)
def test_type_shapes(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


# --- the thread-safety rule ------------------------------------------------------------------

def test_thread_safe_type_with_single_threaded_field(tmp_path):
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          Point: {ctype: struct point, copy: trivial}
          Shape:
            fields:
              id: int
              origin: {managed: Point, policy: SingleThreaded}
            policies: [ThreadSafe]
        """)
    message = assert_reported(
        tmp_path, spec, "8:7",
        ("field 'origin' of 'Shape'", "Managed_Point_SingleThreaded", "not thread-safe",
         "thread-safe policy 'ThreadSafe'"),
        (note("9:16", "'Shape'", "'ThreadSafe'"),))
    assert "give the field a thread-safe policy" in message


def test_thread_safe_context_with_custom_thread_unsafe_policy_field(tmp_path):
    # A custom plain + none policy is not thread-safe either; the type gets ThreadSafe
    # from its `async` context.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        policies:
          Local: {counter: plain, cell: none}
        types:
          Point: {ctype: struct point, copy: trivial}
          Shape:
            contexts: [async]
            fields:
              origin: {managed: Point, policy: Local}
        """)
    assert_reported(tmp_path, spec, "10:7",
                    ("field 'origin' of 'Shape'", "Managed_Point_Local", "not thread-safe"),
                    (note("8:16", "'Shape'", "'ThreadSafe'"),))


def test_thread_safe_type_reaching_an_unsafe_field_through_another_type(tmp_path):
    # Shape under ThreadSafe needs Inner under ThreadSafe, whose field is SingleThreaded:
    # the error names Inner's field; the note is where Inner got ThreadSafe.
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          Point: {ctype: struct point, copy: trivial}
          Inner:
            fields:
              p: {managed: Point, policy: SingleThreaded}
          Shape:
            fields:
              inner: {managed: Inner}
            policies: [ThreadSafe]
        """)
    assert_reported(tmp_path, spec, "7:7", ("field 'p' of 'Inner'", "not thread-safe"),
                    (note("10:7", "'Inner'", "'ThreadSafe'"),))


def test_thread_safe_type_with_single_threaded_weak_field(tmp_path):
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          Node:
            weak: true
            fields:
              up: {weak: Node, policy: SingleThreaded}
            policies: [ThreadSafe]
        """)
    assert_reported(tmp_path, spec, "7:7",
                    ("field 'up' of 'Node'", "not thread-safe", "thread-safe policy 'ThreadSafe'"),
                    (note("8:16", "'Node'", "'ThreadSafe'"),))


# --- where output goes ---------------------------------------------------------------------

@pytest.mark.parametrize("module", ["../evil", "/tmp/x", "a/b", "..", "a\\\\b"],
                         ids=["parent", "absolute", "subfolder", "dotdot", "backslash"])
def test_module_must_not_write_outside_the_output_folder(tmp_path, module):
    outside = [tmp_path.parent / "evil.h", tmp_path.parent / "evil.c",
               Path("/tmp/x.h"), Path("/tmp/x.c")]
    existed = {p: p.exists() for p in outside}
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: "{module}"
        types:
          A: {{ctype: int, copy: trivial}}
        """)
    assert_reported(tmp_path, spec, "2:9", ("would write outside the output folder",))
    assert {p: p.exists() for p in outside} == existed, "nothing written anywhere"


# --- text pasted into C ----------------------------------------------------------------------

# Each text and the first character the grammar refuses in it. C's alternative
# spellings count: digraphs (<% %> <: :> %:), trigraphs (??< ??=, live in gcc's
# -std=c11), backslash-newline and universal character names.
INJECTIONS = [
    ('"int\\nx"', "'\\n' (U+000A"), ('"int; int"', "';'"), ('"struct { int x"', "'{'"),
    ('"int } x"', "'}'"), ('"int /* x"', "'/'"), ('"int */"', "'/'"),
    ('"int // x"', "'/'"), ('"int #x"', "'#'"), ('"int \\\\"', "'\\'"),
    ('"int <% x"', "'<'"), ('"int %> x"', "'%'"), ('"int <: 4 :>"', "'<'"),
    ('"%:define x"', "'%'"), ('"int ??< x"', "'?'"), ('"int ??= x"', "'?'"),
    ('"int \\\\\\nx"', "'\\'"), ('"\\\\u00e9t"', "'\\'"),
    ('"int[4]"', "'['"), ('"int (*)(void)"', "'('"), ('"int, y"', "','"),
    ('"t\\u00e9"', "'\u00e9' (U+00E9"),
]
INJECTION_IDS = ["newline", "semicolon", "open-brace", "close-brace", "open-comment",
                 "close-comment", "line-comment", "hash", "backslash", "digraph-brace",
                 "digraph-close", "digraph-bracket", "digraph-hash", "trigraph-brace",
                 "trigraph-hash", "backslash-newline", "universal-character-name", "array",
                 "function-pointer", "comma", "non-ascii-letter"]


@pytest.mark.parametrize("text, shown", INJECTIONS, ids=INJECTION_IDS)
def test_ctype_cannot_inject_c(tmp_path, text, shown):
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: {text}
            copy: trivial
        """)
    assert_reported(tmp_path, spec, "5:12", ("'ctype' of 'A'", f"contains {shown}",
                                             "not allowed in a C type"))


@pytest.mark.parametrize("text, shown", INJECTIONS, ids=INJECTION_IDS)
def test_plain_field_type_cannot_inject_c(tmp_path, text, shown):
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: m
        types:
          A:
            fields:
              x: {text}
        """)
    assert_reported(tmp_path, spec, "6:10", ("field 'x' of 'A'", f"contains {shown}",
                                             "not allowed in a C type"))


@pytest.mark.parametrize("text, shown", INJECTIONS, ids=INJECTION_IDS)
def test_include_cannot_inject_c(tmp_path, text, shown):
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: m
        includes: ["ok.h", {text}]
        types:
          A: {{ctype: int, copy: trivial}}
        """)
    # Letters, digits and _ . / + - only: the first other character is named.
    message = assert_reported(tmp_path, spec, "3:20", ("include",))
    assert "contains" in message or "malformed" in message, message


@pytest.mark.parametrize("include, words", [
    ('"<stdio.h"', "is malformed"), ('"stdio.h>"', "contains '>'"), ('"<>"', "is malformed"),
    ("'\"a.h'", "is malformed"), ('"a b.h"', "contains ' '"),
    ('"<a.h> <b.h>"', "contains '>'"), ('"<..>"', "names no file")],
    ids=["unclosed-angle", "unopened-angle", "empty-angle", "unclosed-quote", "space",
         "two-headers", "no-file"])
def test_malformed_include(tmp_path, include, words):
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: m
        includes: [{include}]
        types:
          A: {{ctype: int, copy: trivial}}
        """)
    assert_reported(tmp_path, spec, "3:12", ("include", words))


@pytest.mark.parametrize("ctype, words", [
    ("const int", "'const'-qualified"), ("int *const", "'const'-qualified"),
    ("volatile long", "'volatile'-qualified"), ("void", "is void"),
    ("struct", "exactly one tag"), ("struct a b", "exactly one tag"),
    ("unsigned my_t", "cannot be combined"), ("int return", "cannot be combined"),
    ("_Reserved", "starts with '_'"), ("class", "keyword"), ("h", "parameter or local"),
    ("out *", "parameter or local"), ("int * int", "cannot follow '*'"),
    ("const", "names no type")],
    ids=["const", "const-pointer", "volatile", "void", "tag-without-name", "two-tags",
         "builtin-and-name", "keyword-in-type", "reserved", "cxx-keyword", "local-name-h",
         "local-name-out", "type-after-star", "qualifier-only"])
def test_ctype_must_be_an_assignable_c_type(tmp_path, ctype, words):
    spec = textwrap.dedent(f"""\
        pmgen: 1
        module: m
        types:
          A: {{ctype: "{ctype}", copy: trivial}}
        """)
    assert_reported(tmp_path, spec, "4:14", ("'ctype' of 'A'", words))


def test_accepted_ctypes_reach_the_output_in_canonical_spelling(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        pmgen: 1
        module: m
        includes: ["<stdint.h>", "<stddef.h>"]
        types:
          A: {ctype: "const   char*", copy: trivial}
          B: {ctype: "unsigned long  long", copy: trivial}
          C: {ctype: "struct  tm **", copy: trivial}
          D: {ctype: "void *", copy: trivial}
        """), encoding="utf-8")
    assert run_pmgen(str(spec), "-o", str(tmp_path / "out")).returncode == 0
    header = (tmp_path / "out" / "m.h").read_text(encoding="utf-8")
    for spelled in ("const char *value;", "unsigned long long value;", "struct tm **value;",
                    "void *value;"):
        assert spelled.replace("value;", "") in header.replace(" value;", ""), spelled


def test_empty_ctype(tmp_path):
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: "  ", copy: trivial}
        """)
    assert_reported(tmp_path, spec, "4:14", ("'ctype' of 'A' is empty",))


# --- YAML that reads as something other than what was meant -----------------------------------

YAML_TYPES = [
    case("""\
        pmgen: 1
        module: m
        types:
          on: {ctype: int, copy: trivial}
        """, "4:3", "mapping key 'on' must be a string", "boolean true", "quote it",
         id="type-name-on-is-a-boolean"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            fields:
              yes: int
        """, "6:7", "mapping key 'yes' must be a string", "boolean", id="field-name-yes"),
    case("""\
        pmgen: 1
        module: m
        types:
          1: {ctype: int, copy: trivial}
        """, "4:3", "mapping key '1' must be a string", "int", id="type-name-is-a-number"),
    case("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: yes, copy: trivial}
        """, "4:14", "'ctype' of 'A' must be a string", "bool True", "quote it",
         id="ctype-is-a-boolean"),
    case("""\
        pmgen: 1
        module: 2024-01-01
        types:
          A: {ctype: int, copy: trivial}
        """, "2:9", "'module' must be a string", "date", id="module-is-a-date"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            policies: Frozen
        """, "7:15", "'policies' of 'A' must be a list", "str 'Frozen'",
         id="policies-not-a-list"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            policies: [ThreadSafe, SingleThreaded, ThreadSafe]
        """, "7:44", "'ThreadSafe' is listed twice", "'policies' of 'A'",
         notes=(note("7:16", "first listed"),), id="policy-listed-twice"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            contexts: [async, async]
        """, "7:23", "'async' is listed twice", "'contexts' of 'A'",
         notes=(note("7:16", "first listed"),), id="context-listed-twice"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            policies: []
        """, "7:15", "'policies' of 'A' is empty", id="policies-empty"),
    case("""\
        pmgen: 1
        module: m
        types:
          A:
            ctype: int
            copy: trivial
            contexts: []
        """, "7:15", "'contexts' of 'A' is empty", id="contexts-empty"),
    case("""\
        pmgen: 1
        module: m
        includes: "stdio.h"
        types:
          A: {ctype: int, copy: trivial}
        """, "3:11", "'includes' must be a list", id="includes-not-a-list"),
]


@pytest.mark.parametrize("spec, at, words, notes", YAML_TYPES)
def test_yaml_values_of_the_wrong_kind(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)


# --- one error, reported once ------------------------------------------------------------------

def test_error_is_reported_once_with_no_other_output(tmp_path):
    spec = textwrap.dedent("""\
        pmgen: 1
        module: m
        types:
          A: {ctype: int}
        """)
    stderr, lines = run_bad_spec(tmp_path, spec)
    assert lines == [f"spec.yaml:4:3: error: {lines[0].split(': error: ', 1)[1]}"]
    assert stderr.count("error:") == 1


# --- characters YAML does not allow --------------------------------------------------------

def test_a_control_character_is_reported_where_it_is(tmp_path):
    """A NUL (found by the fuzzer) is one error line at its own line:column."""
    assert_reported(tmp_path, "pmgen: 1\nmodule: m\x00\ntypes: {}\n", "2:10",
                    ("not valid YAML", "U+0000", "not allowed"))


# --- sum types (variants:) ------------------------------------------------------------------

SUM_TYPES = [
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            fields: {x: int}
            variants: {A: {}}
        """, "6:5", "type 'E' has both 'fields' and 'variants'",
         notes=(note("5:5", "'fields'"),), id="fields-and-variants"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants: {}
        """, "5:15", "type 'E' has no variants", id="no-variants"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants: [A, B]
        """, "5:15", "'variants' of 'E' must be a mapping", id="variants-not-a-mapping"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: int64_t
        """, "6:10", "variant 'A' of 'E' must be a mapping of fields", "{}",
         id="variant-not-a-mapping"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {x: [int]}
        """, "6:14", "field 'x' of 'E.A' must be a C type", id="unknown-field-form"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {}
              A: {x: int}
        """, "7:7", "duplicate key 'A'", notes=(note("6:7", "'A' first defined here"),),
         id="duplicate-variant"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              tag: {x: int}
        """, "6:7", "variant name 'tag' of type 'E'", "holds the tag", id="variant-named-tag"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              int: {}
        """, "6:7", "variant name 'int' of type 'E' is a C keyword", id="variant-keyword"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              _A: {}
        """, "6:7", "variant name '_A' of type 'E' starts with '_'", id="variant-underscore"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {out: int}
        """, "6:11", "field name 'out' of variant 'A' of 'E'", "constructors",
         id="field-named-like-a-parameter"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {x: size_kind, size_kind: int}
        """, "6:25", "field name 'size_kind' of variant 'A' of 'E'", "would hide",
         id="field-hides-a-type-of-another"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {Managed_E_SingleThreaded: int}
        """, "6:11", "field name 'Managed_E_SingleThreaded'", "would hide",
         id="field-hides-the-handle-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {next: {managed: F}}
        """, "6:27", "managed type 'F', which the spec does not define",
         id="variant-field-of-unknown-type"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              A: {up: {weak: E}}
        """, "6:22", "weak reference to 'E', which has no weak references",
         notes=(note("4:3", "'E' is defined here"),), id="weak-field-to-type-without-weak"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants: {A: {}}
            drop: e_drop
        """, "6:5", "'drop' applies only to 'ctype' types", "sum types", id="hook-on-sum-type"),
    case("""\
        pmgen: 1
        module: m
        policies:
          A: {counter: plain, cell: none}
        types:
          E:
            variants: {A: {x: int}}
            policies: [A]
        """, "7:16", "variant 'A' of 'E'", "'E_A'", "'E' under 'A'",
         notes=(note("8:16", "'E' under 'A'"),), id="tag-constant-clashes-with-value-struct"),
    case("""\
        pmgen: 1
        module: m
        types:
          E:
            variants:
              Add: {x: int}
              Add_reuse: {x: int}
        """, "6:7", "variant 'Add' of 'E' under 'SingleThreaded'",
         "'Managed_E_SingleThreaded_new_Add_reuse'",
         notes=(note("7:7", "variant 'Add_reuse' of 'E' under 'SingleThreaded'"),),
         id="constructor-names-clash"),
    case("""\
        pmgen: 1
        module: m
        policies:
          tag: {counter: plain, cell: none}
        types:
          E:
            variants: {A: {}}
            policies: [tag]
        """, "6:3", "sum type 'E'", "'E_tag'", notes=(note("8:16", "'E' under 'tag'"),),
         id="tag-type-clashes-with-value-struct"),
]


@pytest.mark.parametrize("spec, at, words, notes", SUM_TYPES)
def test_sum_types(tmp_path, spec, at, words, notes):
    assert_reported(tmp_path, spec, at, words, notes)
