"""Generator fuzzing with hypothesis: random valid specs compile and run; broken ones are
reported, never crash (DESIGN.md, "The spec" and "Qualities").

- Valid specs: random types (ctype with `copy: trivial` or clone/drop hooks, `fields`
  with plain, managed and weak fields, self- and mutually recursive, or sum types whose
  variants have such fields or none, some `weak: true`, some `region: true`, some a
  `box_align`), custom policies of every
  allowed building-block combination, `policies` or `contexts` or neither, and managed
  fields with explicit policies that keep the thread-safety rule, and sometimes a
  `prefix` before every generated name. Each one is rendered by
  pmgen, compiled with -Werror under gcc and clang, and run: a generated main news, dups,
  reads, copies on write and drops one value of every instantiation, with a counting
  allocator that must end at zero.
- Mutations of valid specs (a line deleted, duplicated or truncated; a key renamed; a
  value swapped for another; a bad character injected) must either still be a valid spec
  or fail with SpecError at a line:column inside the text; through the CLI: exit 1, one
  `spec.yaml:LINE:COL: error: ` line first, no traceback, no file written.

Bounded by max_examples (PM_FUZZ_EXAMPLES scales them: docs/RELIABILITY.md) so that
this file stays within about two minutes on two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PYTHON, ROOT, RUNTIME, RUNTIME_SOURCES, STRICT, run_pmgen

from pmgen.api import render_spec
from pmgen.errors import SpecError
from pmgen.render import Renderer

SCALE = float(os.environ.get("PM_FUZZ_EXAMPLES", "1"))
VALID_EXAMPLES = max(1, int(25 * SCALE))
MUTANT_EXAMPLES = max(1, int(1000 * SCALE))
CLI_EXAMPLES = max(1, int(40 * SCALE))
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

BUILT_IN = {"SingleThreaded": ("plain", "borrow"), "ThreadSafe": ("atomic", "rwlock")}
COMBINATIONS = [("plain", "borrow"), ("plain", "none"), ("atomic", "rwlock"), ("atomic", "none")]
CONTEXT_POLICY = {"sync": "SingleThreaded", "threadsafe": "ThreadSafe", "async": "ThreadSafe",
                  "parallel": "ThreadSafe"}
SCALARS = ["int64_t", "double", "uint16_t", "int32_t"]

# ---- valid specs ------------------------------------------------------------------------


@st.composite
def valid_specs(draw) -> dict:
    """A spec pmgen must accept: a dict, rendered to YAML by the caller."""
    policies = {f"P{i}": dict(zip(("counter", "cell"), draw(st.sampled_from(COMBINATIONS))))
                for i in range(draw(st.integers(0, 3)))}
    all_policies = {**BUILT_IN, **{n: (p["counter"], p["cell"]) for n, p in policies.items()}}
    names = [f"T{i}" for i in range(draw(st.integers(1, 5)))]
    with_weak = {name: draw(st.booleans()) for name in names}  # weak: true
    types: dict[str, dict] = {}
    for name in names:
        kind = draw(st.sampled_from(["trivial", "hooks", "fields", "fields", "variants"]))
        if kind == "trivial":
            t: dict = {"ctype": draw(st.sampled_from(SCALARS)), "copy": "trivial"}
        elif kind == "hooks":
            t = {"ctype": draw(st.sampled_from(SCALARS)), "clone": f"clone_{name}"}
            if draw(st.booleans()):
                t["drop"] = f"drop_{name}"
        elif kind == "fields":
            t = {"fields": draw_fields(draw, names, with_weak, all_policies, 1)}
        else:  # a sum type: variants with 0 to 3 fields each
            t = {"variants": {f"V{k}": draw_fields(draw, names, with_weak, all_policies, 0)
                              for k in range(draw(st.integers(1, 4)))}}
        how = draw(st.sampled_from(["none", "policies", "contexts"]))
        if how == "policies":
            t["policies"] = draw(st.lists(st.sampled_from(sorted(all_policies)), min_size=1,
                                          max_size=3, unique=True))
        elif how == "contexts":
            t["contexts"] = draw(st.lists(st.sampled_from(sorted(CONTEXT_POLICY)), min_size=1,
                                          max_size=3, unique=True))
        if with_weak[name]:
            t["weak"] = True
        if draw(st.booleans()):
            t["region"] = True
        if draw(st.booleans()):
            t["store"] = True
        align = draw(st.sampled_from([None, None, 1, 16, 64, 128]))  # box_align
        if align is not None:
            t["box_align"] = align
        types[name] = t
    keep_thread_safety_rule(types, all_policies)
    spec = {"pmgen": 1, "module": "fz"}
    prefix = draw(st.sampled_from(["", "", "q", "fz", "Managed", "T0_P1"]))  # "": no prefix
    if prefix:
        spec["prefix"] = prefix
    spec["includes"] = ["<stdint.h>"]
    if policies:
        spec["policies"] = policies
    spec["types"] = types
    return spec


def draw_fields(draw, names: list[str], with_weak: dict[str, bool], all_policies: dict,
                at_least: int) -> dict:
    """Plain, managed and weak fields (self and forward references included)."""
    fields: dict = {}
    for j in range(draw(st.integers(at_least, 4 if at_least else 3))):
        if draw(st.booleans()):
            fields[f"f{j}"] = draw(st.sampled_from(SCALARS))
        else:
            target = draw(st.sampled_from(names))
            weak = with_weak[target] and draw(st.booleans())
            field = {"weak" if weak else "managed": target}
            if draw(st.booleans()):
                field["policy"] = draw(st.sampled_from(sorted(all_policies)))
            fields[f"f{j}"] = field
    return fields


def fields_of(t: dict) -> list:
    """The fields of a `fields` type, or of every variant of a sum type."""
    return [*t.get("fields", {}).values(),
            *(f for v in t.get("variants", {}).values() for f in v.values())]


def instantiations(types: dict, all_policies: dict) -> dict[str, set[str]]:
    """Type -> the policies it is generated under: its own, and what managed fields need."""
    result: dict[str, set[str]] = {}
    for name, t in types.items():
        if "policies" in t:
            result[name] = set(t["policies"])
        elif "contexts" in t:
            result[name] = {CONTEXT_POLICY[c] for c in t["contexts"]}
        else:
            result[name] = {"SingleThreaded"}
    changed = True
    while changed:
        changed = False
        for name, t in types.items():
            for field in fields_of(t):
                if isinstance(field, dict):
                    needed = {field["policy"]} if "policy" in field else result[name]
                    target = field.get("managed") or field["weak"]
                    if not needed <= result[target]:
                        result[target] |= needed
                        changed = True
    return result


def keep_thread_safety_rule(types: dict, all_policies: dict) -> None:
    """Give explicit-policy fields of thread-safe instantiations a thread-safe policy."""
    while True:
        inst = instantiations(types, all_policies)
        broken = [field for name, t in types.items()
                  if any(all_policies[p][0] == "atomic" for p in inst[name])
                  for field in fields_of(t)
                  if isinstance(field, dict) and all_policies[field.get("policy", "ThreadSafe")][0]
                  == "plain"]
        if not broken:
            return
        for field in broken:
            field["policy"] = "ThreadSafe"


# ---- the smoke program --------------------------------------------------------------------

NEW_PROTO = re.compile(  # the handle's name: Managed_N_P after the spec's prefix, if any
    r"^static inline pm_status (\w*Managed_\w+)_new\(\s*\1 \*out,\s+(.+) value\) \{$", re.M)
REGION_PROTO = re.compile(  # Region_N_P_alloc (region: true), after the prefix, if any
    r"^static inline pm_status (\w*Region_\w+_alloc)\(\s*pm_region \*r,\s+(.+?) value,", re.M)
STORE_PROTO = re.compile(  # Store_N_P_alloc (store: true), after the prefix, if any
    r"^static inline pm_status (\w*Store_\w+)_alloc\(\s*\1 \*s,\s+(.+?) value,\s+(\w+) \*out\)",
    re.M)


def smoke_main(spec: dict, header: str) -> str:
    """A C main that exercises one value of every instantiation in the generated header."""
    hooks = []
    for name, t in spec["types"].items():
        if "clone" in t:
            hooks.append(f"pm_status clone_{name}({t['ctype']} *dst, const {t['ctype']} *src) "
                         "{ *dst = *src; return PM_OK; }")
        if "drop" in t:
            hooks.append(f"void drop_{name}({t['ctype']} *value) {{ (void)value; }}")
    blocks = []
    for n, (handle, value) in enumerate(NEW_PROTO.findall(header)):
        blocks.append(f"""    {{
        {handle} h = {{0}}, d;
        {value} v, *w = NULL;
        const {value} *r = NULL;
        memset(&v, 0, sizeof v);
        if ({handle}_new(&h, v) != PM_OK) return {10 * n + 1};
        d = {handle}_dup(h);
        if ({handle}_refcount(h) != 2 && {handle}_refcount(h) != PM_COUNT_SATURATED)
            return {10 * n + 2}; /* saturated: a sum type's shared nullary variant */
        if ({handle}_read(h, &r) != PM_OK) return {10 * n + 3};
        {handle}_release_read(h);
        if ({handle}_write(&d, &w) != PM_OK || d.box == h.box) return {10 * n + 4};
        {handle}_release_write(d);
        {handle}_drop(&d);
        {handle}_drop(&h);
    }}""")
    for n, (alloc, value) in enumerate(REGION_PROTO.findall(header)):
        blocks.append(f"""    {{
        pm_region r;
        {value} v, *p = NULL;
        memset(&v, 0, sizeof v);
        if (pm_region_init(&r, {"true" if n % 2 else "false"}) != PM_OK) return {1000 + n};
        if ({alloc}(&r, v, &p) != PM_OK || p == NULL) return {2000 + n};
        pm_region_reset(&r);
        if ({alloc}(&r, v, &p) != PM_OK || p == NULL) return {3000 + n};
        pm_region_fini(&r);
    }}""")
    for n, (store, value, handle) in enumerate(STORE_PROTO.findall(header)):
        blocks.append(f"""    {{
        {store} s;
        {handle} h, g;
        {value} v;
        const {value} *r = NULL;
        uint32_t count = 0;
        memset(&v, 0, sizeof v);
        if ({store}_init(&s) != PM_OK) return {4000 + n};
        if ({store}_alloc(&s, v, &h) != PM_OK || {store}_retain(&s, h, &count) != PM_OK
            || count != 2) return {5000 + n};
        if ({store}_get(&s, h, &r) != PM_OK || r == NULL) return {6000 + n};
        {store}_release_get(&s, h);
        if ({store}_release(&s, h, NULL) != PM_OK || {store}_release(&s, h, &count) != PM_OK
            || count != 0 || {store}_get(&s, h, &r) != PM_EGONE) return {7000 + n};
        if ({store}_alloc(&s, v, &g) != PM_OK || {store}_len(&s) != 1) return {8000 + n};
        {store}_fini(&s);
    }}""")
    assert blocks, header
    return "\n".join([
        '#include <stdlib.h>', '#include <string.h>', '#include "fz.h"', "",
        "static long live;",
        "static void *count_alloc(size_t n, void *c) { (void)c; live++; return malloc(n); }",
        "static void count_free(void *p, size_t n, void *c) { (void)n; (void)c; live--; free(p); }",
        *hooks, "", "int main(void) {", "    pm_set_allocator(count_alloc, count_free, NULL);",
        *blocks, "    return live == 0 ? 0 : 99;", "}", ""])


@pytest.fixture(scope="module")
def runtime_objects(tmp_path_factory) -> dict[str, list[Path]]:
    """The runtime compiled once per compiler."""
    out = tmp_path_factory.mktemp("runtime")
    objects: dict[str, list[Path]] = {}
    for cc in ("gcc", "clang"):
        objects[cc] = []
        for source in RUNTIME_SOURCES:
            obj = out / f"{cc}-{source.stem}.o"
            subprocess.run([cc, *STRICT, "-c", f"-I{RUNTIME}", str(source), "-o", str(obj)],
                           check=True, capture_output=True, timeout=120)
            objects[cc].append(obj)
    return objects


@settings(FUZZ, max_examples=VALID_EXAMPLES)
@given(spec=valid_specs())
def test_valid_specs_compile_and_run(spec: dict, runtime_objects, tmp_path_factory) -> None:
    work = tmp_path_factory.mktemp("valid")
    text = yaml.safe_dump(spec, sort_keys=False)
    (work / "spec.yaml").write_text(text, encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=work)
    assert result.returncode == 0, f"{text}\n{result.stderr}"
    header = (work / "out" / "fz.h").read_text(encoding="utf-8")
    (work / "main.c").write_text(smoke_main(spec, header), encoding="utf-8")
    for cc, objects in runtime_objects.items():
        binary = work / f"smoke-{cc}"
        build = subprocess.run(
            [cc, *STRICT, "-O0", f"-I{RUNTIME}", f"-I{work / 'out'}", str(work / "main.c"),
             str(work / "out" / "fz.c"), *map(str, objects), "-o", str(binary), "-pthread"],
            capture_output=True, text=True, timeout=120)
        assert build.returncode == 0 and build.stderr == "", f"{text}\n{build.stderr}"
        run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{text}\nsmoke [{cc}] exit {run.returncode}"


# ---- mutations ----------------------------------------------------------------------------

BAD_CHARS = list(":{}[]#&*!|>'\"%@`,-?\t\\") + [
    "\x00", "\u00e9", "\ufeff", "  ", "\n",
    # line breaks to YAML but not to editors, escapes of non-characters, C's other spellings
    "\u2028", "\u2029", "\u0085", "\\ud800", "\\udfff", "??<", "??=", "<%", "%>", "<:", "%:",
    "\\\n", "\\u00e9", "\U0001F600"]
JUNK_WORDS = ["", "x", "types", "fields", "variants", "tag", "managed", "policy", "T0", "1", "-1",
              "null", "yes", "[]", "{}", "'", "int64_t;", "__x", "_X", "a/b", "2024-01-01", "~",
              "&a", "*a",
              "!tag", "<<", "9" * 30,
              # names the C library, C, C++, GNU C or the runtime already use
              "memcpy", "EOF", "FILE", "size", "linux", "asm", "class", "int", "return",
              "pm_free", "pm", "PM_OK", "h", "out", "_foo", "string", "stdatomic",
              # explicit tags on scalars PyYAML's constructors never parsed
              "!!bool maybe", "!!int ''", "!!float ''", "!!null x", "!!binary x", "!!str",
              "!!timestamp x", "!!int 0x"]


@st.composite
def mutants(draw) -> str:
    """A valid spec's YAML text, damaged by one to three random edits."""
    text = yaml.safe_dump(draw(valid_specs()), sort_keys=False)
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "duplicate", "rename", "swap", "inject",
                                     "truncate", "indent", "tag"]))
        if edit == "delete":
            del lines[i]
        elif edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "rename":  # a key or a value replaced by junk
            lines[i] = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", draw(st.sampled_from(JUNK_WORDS)),
                              lines[i], count=1)
        elif edit == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif edit == "tag":  # an explicit YAML tag in front of a value
            lines[i] = re.sub(r": ", ": " + draw(st.sampled_from(
                ["!!bool ", "!!int ", "!!float ", "!!null ", "!!str ", "!!binary "])),
                lines[i], count=1)
        elif edit == "inject":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.sampled_from(BAD_CHARS)) + lines[i][pos:]
        elif edit == "indent":
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
        else:
            text = "".join(lines)
            text = text[:draw(st.integers(0, len(text)))]
            continue
        text = "".join(lines)
    return text


@settings(FUZZ, max_examples=MUTANT_EXAMPLES)
@given(text=mutants())
def test_mutated_specs_are_reported_not_crashed(text: str) -> None:
    try:
        render_spec(text, "spec.yaml", Renderer())
    except SpecError as error:
        lines = text.splitlines() or [""]
        assert error.file == "spec.yaml"
        assert 1 <= error.line <= len(lines) + 1, (error, text)
        assert error.column >= 1, (error, text)
        assert str(error).startswith(f"spec.yaml:{error.line}:{error.column}: error: "), error
        assert error.message and "\n" not in error.message.strip(), error
    # Any other exception is a crash: hypothesis reports it with the text that caused it.


ERROR_LINE = re.compile(r"spec\.yaml:\d+:\d+: error: \S")


@settings(FUZZ, max_examples=CLI_EXAMPLES)
@given(text=mutants())
def test_mutated_specs_through_the_cli(text: str, tmp_path_factory) -> None:
    work = tmp_path_factory.mktemp("mutant")
    (work / "spec.yaml").write_text(text, encoding="utf-8")
    result = run_pmgen("spec.yaml", "-o", "out", cwd=work)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 0:
        return  # the edits left a valid spec
    assert result.returncode == 1, (text, result.stderr)
    first = result.stderr.splitlines()[0]
    assert ERROR_LINE.match(first), (text, result.stderr)
    assert not (work / "out").exists() or not any((work / "out").iterdir()), "no partial output"


# ---- hostile names ------------------------------------------------------------------------

# Names drawn from what the output's headers, C, C++, GNU C and the runtime already use,
# reserved forms, and the generated code's own parameter names; with ordinary ones mixed in
# so that many specs are accepted. Whatever pmgen accepts must compile. (A ctype must name a
# type the includes declare: `enum e *` with no `enum e` is the spec author's error, not
# pmgen's, so the pool holds declared types and pointers to incomplete structs and unions.)
HOSTILE_NAMES = ["memcpy", "EOF", "FILE", "size", "t", "linux", "unix", "asm", "typeof",
                 "class", "new", "int", "return", "pm", "status", "pm_free", "PM_OK", "h",
                 "out", "value", "box", "dst", "_foo", "__x", "_X", "errno", "stdout", "NULL",
                 "bool", "true", "uint8", "int8", "stdin", "abs", "free", "malloc", "Managed",
                 "SingleThreaded", "a", "b", "Value", "Node", "x1"]
HOSTILE_CTYPES = ["int64_t", "size_t", "FILE *", "const char *", "unsigned long long",
                  "struct opaque *", "void *", "h", "_x", "const int", "int[2]", "void",
                  "struct", "int *const", "bool", "double", "union u *", "uint8_t"]


@st.composite
def hostile_specs(draw) -> dict:
    name = st.sampled_from(HOSTILE_NAMES)
    modules = ["fz"] * 6 + ["string", "stdatomic", "pm_rwlock", "_m", "status"]
    module = draw(st.sampled_from(modules))
    policies = {}
    for _ in range(draw(st.integers(0, 2))):
        policies[draw(name)] = {"counter": "plain", "cell": "none"}
    types: dict[str, dict] = {}
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["trivial", "hooks", "fields"]))
        if kind == "trivial":
            t: dict = {"ctype": draw(st.sampled_from(HOSTILE_CTYPES)), "copy": "trivial"}
        elif kind == "hooks":
            t = {"ctype": draw(st.sampled_from(HOSTILE_CTYPES)), "clone": draw(name)}
        else:
            t = {"fields": {draw(name): draw(st.sampled_from(HOSTILE_CTYPES))
                            for _ in range(draw(st.integers(1, 3)))}}
        if policies and draw(st.booleans()):
            t["policies"] = sorted(policies)
        types[draw(name)] = t
    spec: dict = {"pmgen": 1, "module": module,
                  "includes": ["<stdint.h>", "<stddef.h>", "<stdio.h>"]}
    if draw(st.booleans()):
        spec["prefix"] = draw(name)
    if policies:
        spec["policies"] = policies
    spec["types"] = types
    return spec


HOSTILE_EXAMPLES = max(1, int(150 * SCALE))


@settings(FUZZ, max_examples=HOSTILE_EXAMPLES)
@given(spec=hostile_specs())
def test_hostile_names_are_refused_or_compile(spec: dict, tmp_path_factory) -> None:
    text = yaml.safe_dump(spec, sort_keys=False)
    try:
        files = render_spec(text, "spec.yaml", Renderer())
    except SpecError as error:
        assert 1 <= error.line <= text.count("\n") + 1, (error, text)
        return
    work = tmp_path_factory.mktemp("hostile")
    for name, content in files.items():
        (work / name).write_text(content, encoding="utf-8")
    source = next(work / n for n in files if n.endswith(".c"))
    for cc in ("gcc", "clang"):
        for std in ("-std=c11", "-std=gnu11"):
            build = subprocess.run([cc, *STRICT, std, "-c", f"-I{RUNTIME}", f"-I{work}",
                                    str(source), "-o", str(work / "out.o")],
                                   capture_output=True, text=True, timeout=120)
            assert build.returncode == 0 and build.stderr == "", \
                f"accepted but does not compile [{cc} {std}]:\n{text}\n{build.stderr}"


def test_fuzzers_run_pmgen_from_this_checkout() -> None:
    """The in-process fuzzing above must exercise the same pmgen as the CLI runs."""
    import pmgen
    assert Path(pmgen.__file__).resolve().parent == ROOT / "gen" / "pmgen"
    assert PYTHON
