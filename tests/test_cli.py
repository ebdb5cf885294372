"""The pmgen command line and the Python API (pmgen.generate).

`pmgen SPEC -o OUTDIR` writes OUTDIR/<module>.h and OUTDIR/<module>.c, quietly and
byte-identically for the same input; `--header`/`--source` name the two files
directly; `--depfile` names what the output depends on. Usage errors exit 2, spec
and I/O errors exit 1, never with a traceback.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

import pmgen
from conftest import ROOT, run_pmgen

TEMPLATES = sorted((ROOT / "templates").glob("*.j2"))

# Every kind of type: a trivial ctype, a ctype with clone and drop hooks, a `fields`
# struct with plain, managed (same and explicit policy) and recursive fields; policies
# from contexts, and a custom policy.
GOOD_SPEC = textwrap.dedent("""\
    pmgen: 1
    module: m
    includes: ["<stddef.h>", "m_support.h"]
    policies:
      Frozen: {counter: atomic, cell: none}
      Local: {counter: plain, cell: none}
    types:
      Point:
        ctype: struct point
        copy: trivial
        policies: [SingleThreaded, ThreadSafe, Frozen, Local]
      Buffer:
        ctype: struct buffer
        clone: buffer_clone
        drop: buffer_free
        contexts: [sync, async]
      Node:
        fields:
          value: int64_t
          origin: {managed: Point, policy: Frozen}
          buffer: {managed: Buffer}
          next: {managed: Node}
        policies: [SingleThreaded, ThreadSafe]
    """)

# The same types, listed in another order.
REORDERED_SPEC = textwrap.dedent("""\
    pmgen: 1
    module: m
    includes: ["<stddef.h>", "m_support.h"]
    policies:
      Local: {counter: plain, cell: none}
      Frozen: {counter: atomic, cell: none}
    types:
      Node:
        fields:
          value: int64_t
          origin: {managed: Point, policy: Frozen}
          buffer: {managed: Buffer}
          next: {managed: Node}
        policies: [ThreadSafe, SingleThreaded]
      Buffer:
        ctype: struct buffer
        clone: buffer_clone
        drop: buffer_free
        contexts: [async, sync]
      Point:
        ctype: struct point
        copy: trivial
        policies: [Local, Frozen, ThreadSafe, SingleThreaded]
    """)

BAD_SPEC = textwrap.dedent("""\
    pmgen: 1
    module: m
    types:
      Point:
        ctype: struct point
    """)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_quiet_success(result) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "", "pmgen is quiet on success"


@pytest.fixture
def good_spec(tmp_path) -> Path:
    return write(tmp_path / "spec.yaml", GOOD_SPEC)


# --- arguments -------------------------------------------------------------------------------

def test_version_prints_name_and_version():
    result = run_pmgen("--version")
    assert result.returncode == 0
    assert result.stdout == "pmgen 0.1.0\n"
    assert result.stderr == ""
    assert pmgen.__version__ == "0.1.0"


def test_no_arguments_is_a_usage_error():
    result = run_pmgen()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: pmgen")
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_spec_without_an_output_is_a_usage_error(tmp_path, good_spec):
    result = run_pmgen("spec.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: pmgen")
    assert "nothing to write" in result.stderr and "-o OUTDIR" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


@pytest.mark.parametrize("spec", ["missing.yaml", "folder"], ids=["missing", "a-directory"])
def test_unreadable_spec(tmp_path, spec):
    (tmp_path / "folder").mkdir()
    result = run_pmgen(spec, "-o", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{spec}: error: cannot read the spec")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_spec_that_is_not_utf8(tmp_path):
    (tmp_path / "spec.yaml").write_bytes(b"pmgen: 1\nmodule: \xff\n")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1
    # Located at the bad byte: line 2, column 9.
    assert result.stderr == ("spec.yaml:2:9: error: the spec is not UTF-8 text: byte 0xFF here "
                             "does not start or continue a UTF-8 character\n")
    assert not (tmp_path / "out").exists()


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path, good_spec):
    write(tmp_path / "out", "a file where the output folder should be")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("pmgen: error: cannot write output")
    assert "Traceback" not in result.stderr


# --- generating --------------------------------------------------------------------------------

def test_good_spec_writes_header_and_source_quietly(tmp_path, good_spec):
    result = run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path)
    assert_quiet_success(result)
    files = files_in(tmp_path / "out")
    assert sorted(files) == ["m.c", "m.h"]
    header = files["m.h"].decode()
    for handle in ("Managed_Point_SingleThreaded", "Managed_Point_ThreadSafe",
                   "Managed_Point_Frozen", "Managed_Point_Local",
                   "Managed_Buffer_SingleThreaded", "Managed_Buffer_ThreadSafe",
                   "Managed_Node_SingleThreaded", "Managed_Node_ThreadSafe"):
        assert handle in header
    assert '#include "pm.h"' in header
    assert "#include <stddef.h>" in header and '#include "m_support.h"' in header
    assert '#include "m.h"' in files["m.c"].decode()


def test_output_is_byte_identical_across_runs(tmp_path, good_spec, monkeypatch):
    # Different hash seeds: nothing may depend on set or dict-of-hash order.
    for seed, out in (("1", "one"), ("2", "two")):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        assert_quiet_success(run_pmgen("spec.yaml", "-o", out, cwd=tmp_path))
    assert files_in(tmp_path / "one") == files_in(tmp_path / "two")


def test_types_in_another_order_render_deterministically(tmp_path, monkeypatch):
    write(tmp_path / "spec.yaml", REORDERED_SPEC)
    for seed, out in (("3", "one"), ("4", "two")):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        assert_quiet_success(run_pmgen("spec.yaml", "-o", out, cwd=tmp_path))
    one = files_in(tmp_path / "one")
    assert sorted(one) == ["m.c", "m.h"]
    assert one == files_in(tmp_path / "two")


def test_header_and_source_options_write_the_same_bytes_as_o(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    assert_quiet_success(run_pmgen("spec.yaml", "--header", "inc/gen.h",
                                   "--source", "src/gen.c", cwd=tmp_path))
    out = files_in(tmp_path / "out")
    assert (tmp_path / "inc" / "gen.h").read_bytes() == out["m.h"]
    assert (tmp_path / "src" / "gen.c").read_bytes() == out["m.c"]


def test_header_alone(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "--header", "only.h", cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["only.h", "spec.yaml"]


def test_rerun_with_unchanged_input_keeps_mtimes(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    outputs = [tmp_path / "out" / "m.h", tmp_path / "out" / "m.c"]
    # Back-date the files, so a rewrite could not go unnoticed within the clock's grain.
    old = 1_000_000_000 * 10**9
    for path in outputs:
        os.utime(path, ns=(old, old))
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    assert [p.stat().st_mtime_ns for p in outputs] == [old, old]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.c", "m.h"], \
        "no temporary files left behind"


def test_changed_input_rewrites_only_what_changed(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    header = tmp_path / "out" / "m.h"
    old = 1_000_000_000 * 10**9
    os.utime(header, ns=(old, old))
    write(good_spec, GOOD_SPEC.replace("value: int64_t", "value: int32_t"))
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    assert header.stat().st_mtime_ns != old
    assert "int32_t value;" in header.read_text()


def test_depfile_names_the_spec_and_the_templates(tmp_path, good_spec):
    assert TEMPLATES, "templates/*.j2 exist"
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", "--depfile", "m.d",
                                   cwd=tmp_path))
    text = (tmp_path / "m.d").read_text()
    rules: dict[str, list[str]] = {}
    for rule in text.replace("\\\n", " ").splitlines():
        target, _, prerequisites = rule.partition(":")
        rules[target] = prerequisites.split()
    assert sorted(rules) == [os.path.join("out", "m.c"), os.path.join("out", "m.h")]
    for prerequisites in rules.values():
        assert prerequisites[0] == "spec.yaml"
        assert sorted(prerequisites[1:]) == [str(t) for t in TEMPLATES]


def test_bad_spec_writes_nothing_with_any_output_option(tmp_path):
    write(tmp_path / "spec.yaml", BAD_SPEC)
    result = run_pmgen("spec.yaml", "-o", "out", "--header", "h.h", "--source", "s.c",
                       "--depfile", "m.d", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("spec.yaml:4:3: error: ")
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_error_names_the_spec_as_given(tmp_path):
    write(tmp_path / "spec.yaml", BAD_SPEC)
    result = run_pmgen(str(tmp_path / "spec.yaml"), "-o", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{tmp_path / 'spec.yaml'}:4:3: error: ")


# --- the Python API ----------------------------------------------------------------------------

def test_generate_from_a_path_equals_the_cli_output(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "out", cwd=tmp_path))
    files = pmgen.generate(good_spec)
    assert sorted(files) == ["m.c", "m.h"]
    assert {name: text.encode() for name, text in files.items()} == files_in(tmp_path / "out")
    assert pmgen.generate(str(good_spec)) == files


def test_generate_writes_to_out_dir_like_the_cli(tmp_path, good_spec):
    assert_quiet_success(run_pmgen("spec.yaml", "-o", "cli", cwd=tmp_path))
    pmgen.generate(good_spec, tmp_path / "api")
    assert files_in(tmp_path / "api") == files_in(tmp_path / "cli")


def test_generate_from_a_mapping(tmp_path):
    spec = {
        "pmgen": 1,
        "module": "m",
        "types": {
            "Point": {"ctype": "struct point", "copy": "trivial",
                      "policies": ["SingleThreaded", "ThreadSafe"]},
            "Node": {"fields": {"value": "int64_t", "next": {"managed": "Node"}}},
        },
    }
    files = pmgen.generate(spec)
    assert sorted(files) == ["m.c", "m.h"]
    for name in ("Managed_Point_SingleThreaded", "Managed_Point_ThreadSafe",
                 "Managed_Node_SingleThreaded"):
        assert name in files["m.h"]
    assert pmgen.generate(spec) == files
    # Written out as YAML, the mapping renders the same C apart from the spec's name
    # (a mapping's errors name it "<spec>", its comment "?spec?": only safe characters).
    path = write(tmp_path / "spec.yaml", yaml.safe_dump(spec, sort_keys=False))
    from_file = pmgen.generate(path)
    assert {n: t.replace("spec.yaml", "?spec?") for n, t in from_file.items()} == files


def test_generate_a_bad_spec_raises_spec_error(tmp_path):
    path = write(tmp_path / "spec.yaml", BAD_SPEC)
    with pytest.raises(pmgen.SpecError) as caught:
        pmgen.generate(path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(path), 4, 3)
    assert "neither 'copy: trivial' nor a 'clone' hook" in error.message
    assert str(error) == f"{path}:4:3: error: {error.message}"


def test_generate_a_bad_mapping_raises_spec_error():
    with pytest.raises(pmgen.SpecError) as caught:
        pmgen.generate({"pmgen": 1, "module": "m",
                        "types": {"A": {"ctype": "int", "copy": "trivial", "colour": 1}}})
    error = caught.value
    assert error.file == "<spec>"
    assert error.line >= 1 and error.column >= 1
    assert "unknown key 'colour'" in error.message


def test_generate_a_bad_spec_with_out_dir_writes_nothing(tmp_path):
    path = write(tmp_path / "spec.yaml", BAD_SPEC)
    with pytest.raises(pmgen.SpecError):
        pmgen.generate(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
