"""Hostile specs and careless command lines: one clean located error, never a
traceback, an injection, a hang or destroyed input (issue 9, "The generator").

Each class of attack has its cases here; tests/test_fuzz_specs.py throws random
mutations of the same kinds at pmgen on top of these.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, RUNTIME, STRICT, run_pmgen
from test_spec_errors import assert_reported, run_bad_spec

import pmgen
from pmgen.errors import SpecError

GOOD = textwrap.dedent("""\
    pmgen: 1
    module: m
    types:
      A: {ctype: int, copy: trivial}
    """)


# --- YAML that PyYAML's constructors never saw ------------------------------------------------

@pytest.mark.parametrize("scalar, at", [
    ("!!bool maybe", "4:14"), ('!!int ""', "4:14"), ('!!float ""', "4:14"),
    ("!!int 0x", "4:14"), ("!!null x", "4:14"), ("!!float 1e999999x", "4:14")],
    ids=["bool", "int-empty", "float-empty", "int-prefix", "null-text", "float-junk"])
def test_explicit_tags_on_malformed_scalars(tmp_path: Path, scalar: str, at: str) -> None:
    spec = f"pmgen: 1\nmodule: m\ntypes:\n  A: {{ctype: {scalar}, copy: trivial}}\n"
    assert_reported(tmp_path, spec, at, ("malformed",))


def test_lone_surrogate_escape(tmp_path: Path) -> None:
    spec = 'pmgen: 1\nmodule: m\ntypes:\n  A: {ctype: "x\\ud800", copy: trivial}\n'
    assert_reported(tmp_path, spec, "4:14", ("lone surrogate", "U+D800"))


def test_newline_in_a_name_cannot_forge_a_second_error_line(tmp_path: Path) -> None:
    spec = ('pmgen: 1\nmodule: m\ntypes:\n'
            '  "A\\nspec.yaml:1:1: error: forged": {ctype: int, copy: trivial}\n')
    stderr, lines = run_bad_spec(tmp_path, spec)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("spec.yaml:4:3: error: type name 'A\\nspec.yaml:1:1")


@pytest.mark.parametrize("char, name", [("\u2028", "LINE SEPARATOR"),
                                        ("\u2029", "PARAGRAPH SEPARATOR"),
                                        ("\u0085", "NEXT LINE")],
                         ids=["U+2028", "U+2029", "NEL"])
def test_unicode_line_breaks_do_not_shift_line_numbers(tmp_path: Path, char: str,
                                                       name: str) -> None:
    spec = f"pmgen: 1\nmodule: m{char}\ntypes:\n  A: {{ctype: int, copy: tri}}\n"
    assert_reported(tmp_path, spec, "2:10", (f"U+{ord(char):04X}", name, "line break"))


def test_spec_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    bad = os.fsencode(tmp_path) + b"/sp\xffec\nx.yaml"
    with open(bad, "w", encoding="utf-8") as f:
        f.write(GOOD.replace("copy: trivial", "copy: tri"))
    result = subprocess.run([PYTHON, "-m", "pmgen", bad, b"-o", os.fsencode(tmp_path / "o")],
                            capture_output=True, env=dict(os.environ,
                                                          PYTHONPATH=str(ROOT / "gen")))
    assert result.returncode == 1
    err = result.stderr.decode("utf-8")
    assert "Traceback" not in err
    assert err.count("\n") == 1 and "\\udcff" in err and "sp" in err and ":4:" in err, err


def test_spec_file_name_reaches_the_generated_comment_sanitized(tmp_path: Path) -> None:
    spec = tmp_path / "x*\n#error evil *\u00e9.yaml"
    spec.write_text(GOOD, encoding="utf-8")
    assert run_pmgen(str(spec), "-o", str(tmp_path / "out")).returncode == 0
    header = (tmp_path / "out" / "m.h").read_text(encoding="utf-8")
    assert "#error evil" not in header
    assert "from x???error?evil???.yaml. Do not edit." in header


# --- the Python API raises SpecError and nothing else for a bad spec ----------------------

@pytest.mark.parametrize("spec", [
    {"pmgen": 1, "module": "m", "types": {"A": {"ctype": b"int", "copy": "trivial"}}},
    {"pmgen": 1, "module": "m", "types": {"A": {"ctype": {1, 2}, "copy": "trivial"}}},
    {"pmgen": 1, "module": "m", "types": {"A": {"ctype": "int\ud800", "copy": "trivial"}}},
    {"pmgen": 1, "module": "m", "types": {"A": {"ctype": 1.5, "copy": "trivial"}}},
    {"pmgen": 1, "module": "m", "types": {("tuple",): 1}},
], ids=["bytes", "set", "surrogate", "float", "tuple-key"])
def test_api_raises_only_spec_error(spec: dict) -> None:
    with pytest.raises(SpecError):
        pmgen.generate(spec)


def test_api_on_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_bytes(b"pmgen: 1\n\xc3(")
    with pytest.raises(SpecError) as caught:
        pmgen.generate(tmp_path / "s.yaml")
    assert (caught.value.line, caught.value.column) == (2, 1)


# --- bounded resources ------------------------------------------------------------------------

def test_input_that_never_ends_is_refused_quickly() -> None:
    result = subprocess.run([PYTHON, "-m", "pmgen", "/dev/zero", "-o", "/nonexistent"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "gen")))
    assert result.returncode == 1
    assert result.stderr == "/dev/zero:1:1: error: the spec is larger than 16 MiB\n"


def test_alias_expansion_is_never_expanded(tmp_path: Path) -> None:
    # Nine levels of ten aliases each: 10^9 nodes if expanded. pmgen shares aliased
    # nodes, so this is refused at once, at the first wrong node.
    lines = ["pmgen: 1", "module: m", "policies:", "  P0: &a0 [a, b, c, d, e, f, g, h, i, j]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"  P{level}: &a{level} [{refs}]")
    lines += ["types:", "  A: {ctype: int, copy: trivial}"]
    (tmp_path / "spec.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("spec.yaml:4:7: error: policy 'P0' must be a mapping")


def test_node_count_is_bounded(tmp_path: Path) -> None:
    items = ", ".join(["x"] * 1_100_000)
    (tmp_path / "spec.yaml").write_text(f"pmgen: 1\nmodule: m\nincludes: [{items}]\n",
                                        encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "more than 1,000,000 YAML nodes" in result.stderr


def test_instances_from_aliases_are_bounded(tmp_path: Path) -> None:
    # 120 policies x 100 types through one aliased list: 12,000 instances from a small spec.
    policies = [f"P{k}" for k in range(120)]
    lines = ["pmgen: 1", "module: m", "policies:"]
    lines += [f"  {p}: {{counter: plain, cell: none}}" for p in policies]
    everything = ", ".join(policies)
    lines += ["types:", f"  T0: {{ctype: int, copy: trivial, policies: &all [{everything}]}}"]
    lines += [f"  T{k}: {{ctype: int, copy: trivial, policies: *all}}" for k in range(1, 100)]
    (tmp_path / "spec.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "more than 10,000 instances" in result.stderr


def test_conversions_are_bounded(tmp_path: Path) -> None:
    # 101 policies on one type: 10,100 Managed_T_P_to_Q functions, past the limit.
    policies = [f"P{k}" for k in range(101)]
    lines = ["pmgen: 1", "module: m", "policies:"]
    lines += [f"  {p}: {{counter: plain, cell: none}}" for p in policies]
    lines += ["types:", f"  T: {{ctype: int, copy: trivial, policies: [{', '.join(policies)}]}}"]
    (tmp_path / "spec.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("spec.yaml:106:3: error: type 'T' under 101 policies")
    assert "10,000 conversion functions" in result.stderr


# --- the command line never destroys input ------------------------------------------------

def test_output_that_is_the_spec_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.h").write_text(GOOD, encoding="utf-8")
    result = run_pmgen("m.h", "-o", ".", cwd=tmp_path)
    assert result.returncode == 2 and "is the spec itself" in result.stderr
    assert (tmp_path / "m.h").read_text(encoding="utf-8") == GOOD
    result = run_pmgen("m.h", "--source", "./m.h", cwd=tmp_path)
    assert result.returncode == 2 and (tmp_path / "m.h").read_text(encoding="utf-8") == GOOD


def test_two_outputs_on_one_path_are_refused(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(GOOD, encoding="utf-8")
    result = run_pmgen("spec.yaml", "--header", "x", "--source", "x", cwd=tmp_path)
    assert result.returncode == 2 and "different text to one file" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_depfile_on_an_output_or_the_spec_is_refused(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(GOOD, encoding="utf-8")
    for depfile in ("out/m.h", "spec.yaml"):
        result = run_pmgen("spec.yaml", "-o", "out", "--depfile", depfile, cwd=tmp_path)
        assert result.returncode == 2 and "the depfile" in result.stderr, result.stderr
    assert (tmp_path / "spec.yaml").read_text(encoding="utf-8") == GOOD
    assert not (tmp_path / "out").exists()


def test_a_later_failure_leaves_no_earlier_output(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "blocked").write_text("a file where a folder should be", encoding="utf-8")
    result = run_pmgen("spec.yaml", "--header", "h/m.h", "--source", "blocked/m.c",
                       cwd=tmp_path)
    assert result.returncode == 1 and "cannot write output" in result.stderr
    assert not (tmp_path / "h" / "m.h").exists()
    assert not [p for p in (tmp_path / "h").iterdir()] if (tmp_path / "h").exists() else True


def test_created_files_respect_the_umask(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(GOOD, encoding="utf-8")
    result = subprocess.run(["sh", "-c", f"umask 027 && {PYTHON} -m pmgen spec.yaml -o out"],
                            cwd=tmp_path, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "gen")))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "out" / "m.h").stat().st_mode) == 0o640


# --- accepted specs compile: names the C library, the runtime or C++ already use -------------

@pytest.mark.parametrize("spec, at, words", [
    ("module: string", "2:9", ("hide the system header <string.h>",)),
    ("module: stdatomic", "2:9", ("<stdatomic.h>",)),
    ("module: pm_rwlock", "2:9", ("runtime's headers",)),
    ("module: m\ntypes:\n  A: {ctype: int, copy: trivial}\n  pm:\n    fields: {x: int}\n"
     "    policies: [status]\npolicies:\n  status: {counter: plain, cell: none}", "7:16",
     ("'pm_status'", "runtime")),
    ("module: m\ntypes:\n  size:\n    fields: {x: int}\n    policies: [t]\npolicies:\n"
     "  t: {counter: plain, cell: none}", "6:16", ("'size_t'", "C library")),
    ("module: m\ntypes:\n  B: {ctype: int, clone: memcpy}", "4:26", ("'memcpy'", "C library")),
    ("module: m\ntypes:\n  B: {ctype: int, clone: pm_free}", "4:26", ("'pm_free'", "runtime")),
    ("module: m\ntypes:\n  B: {ctype: int, clone: h}", "4:26", ("'h'",)),
    ("module: m\ntypes:\n  B: {fields: {EOF: int}}", "4:16", ("'EOF'", "C library")),
    ("module: m\ntypes:\n  B: {fields: {linux: int}}", "4:16", ("'linux'", "C library")),
    ("module: m\ntypes:\n  B: {fields: {asm: int}}", "4:16", ("'asm'", "GNU C")),
    ("module: m\ntypes:\n  B: {fields: {class: int}}", "4:16", ("'class'", "C++")),
    ("module: m\ntypes:\n  B: {fields: {_foo: int}}", "4:16", ("'_foo'", "reserved")),
    ("module: m\ntypes:\n  B: {fields: {x: \"int[4]\"}}", "4:19", ("'['",)),
    ("module: m\ntypes:\n  B: {ctype: \"const int\", copy: trivial}", "4:14", ("'const'",)),
    ("module: _m\ntypes:\n  B: {ctype: int, copy: trivial}", "2:9", ("reserved",)),
], ids=["module-string", "module-stdatomic", "module-runtime-header", "value-pm_status",
        "value-size_t", "hook-memcpy", "hook-pm_free", "hook-local-name", "field-EOF",
        "field-linux", "field-asm", "field-class", "field-reserved", "array-field",
        "const-ctype", "module-reserved"])
def test_names_that_would_not_compile_are_refused(tmp_path: Path, spec: str, at: str,
                                                  words: tuple[str, ...]) -> None:
    full = "pmgen: 1\n" + spec + ("\n" if not spec.endswith("\n") else "")
    if "types:" not in full:
        full += "types:\n  A: {ctype: int, copy: trivial}\n"
    assert_reported(tmp_path, full, at, words)


def test_modules_differing_only_in_case_have_distinct_guards(tmp_path: Path) -> None:
    for module in ("shapes", "SHAPES"):
        spec = tmp_path / f"{module}.yaml"
        spec.write_text(GOOD.replace("module: m", f"module: {module}").replace(
            "A: {", f"A{module}: {{"), encoding="utf-8")
        assert run_pmgen(str(spec), "-o", str(tmp_path / module)).returncode == 0
    main = tmp_path / "main.c"
    main.write_text('#include "shapes.h"\n#include "SHAPES.h"\n'
                    "int main(void) {\n"
                    "    Managed_Ashapes_SingleThreaded a = {0};\n"
                    "    Managed_ASHAPES_SingleThreaded b = {0};\n"
                    "    return (a.box == NULL && b.box == NULL) ? 0 : 1;\n}\n")
    result = subprocess.run(["gcc", *STRICT, "-fsyntax-only", f"-I{RUNTIME}",
                             f"-I{tmp_path / 'shapes'}", f"-I{tmp_path / 'SHAPES'}", str(main)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sys.platform.startswith("linux")


def test_the_reserved_name_list_covers_this_machines_headers() -> None:
    # gen/pmgen/reserved.py was written from the C library headers by scripts/reserved-names;
    # a name those headers gained since would slip through the checks above.
    result = subprocess.run([PYTHON, str(ROOT / "scripts" / "reserved-names"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
