"""Golden outputs: the generated C of the example and of every building-block
combination, checked in under tests/golden/ and compared byte for byte.

A template or generator change therefore shows up as a diff of C in review.
After an intended change, rewrite them with the one switch

    PMGEN_UPDATE_GOLDENS=1 /usr/bin/python3 -m pytest -q tests/test_golden.py

and commit the C diff together with the change that caused it.
"""

from __future__ import annotations

import difflib
import os
import pytest

from conftest import ROOT, SPECS

import pmgen

GOLDEN = ROOT / "tests" / "golden"
SPECS_WITH_GOLDENS = {
    "all_policies": SPECS / "all_policies.yaml",  # every counter x cell combination
    "items": ROOT / "examples" / "items.yaml",  # the README's example
    "weak": SPECS / "weak.yaml",  # weak references under every combination
    "sums": SPECS / "sums.yaml",  # sum types under every combination
    "regions": SPECS / "regions.yaml",  # region: true under every combination
    "stores": SPECS / "stores.yaml",  # store: true under every combination
    "prefixed_a": SPECS / "prefixed_a.yaml",  # prefix: every kind of name, prefixed
}
UPDATE = os.environ.get("PMGEN_UPDATE_GOLDENS") == "1"


@pytest.mark.parametrize("name", SPECS_WITH_GOLDENS)
def test_generated_c_matches_the_golden_files(name: str) -> None:
    files = pmgen.generate(SPECS_WITH_GOLDENS[name])
    folder = GOLDEN / name
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in folder.iterdir()) - set(files):
            (folder / stale).unlink()
        for file_name, text in files.items():
            (folder / file_name).write_bytes(text.encode("utf-8"))
    assert sorted(p.name for p in folder.iterdir()) == sorted(files), \
        "golden files differ from the generated set; rerun with PMGEN_UPDATE_GOLDENS=1"
    for file_name, text in files.items():
        golden = (folder / file_name).read_text(encoding="utf-8")
        if golden != text:
            diff = "".join(list(difflib.unified_diff(
                golden.splitlines(True), text.splitlines(True),
                f"golden/{name}/{file_name}", f"generated/{file_name}"))[:80])
            pytest.fail(f"{file_name} differs from its golden copy (PMGEN_UPDATE_GOLDENS=1 "
                        f"rewrites it):\n{diff}")


@pytest.mark.parametrize("name", SPECS_WITH_GOLDENS)
def test_generated_lines_fit_in_100_columns(name: str) -> None:
    # Prototypes and long calls are wrapped; only the #error text cannot be.
    for file_name, text in pmgen.generate(SPECS_WITH_GOLDENS[name]).items():
        wide = [line for line in text.splitlines()
                if len(line) > 100 and not line.startswith("#error")]
        assert not wide, f"{file_name}: {wide[:3]}"


def test_a_long_prototype_is_wrapped_under_its_first_parameter() -> None:
    from pmgen.render import wrap_long_lines
    line = ("static inline pm_status Managed_Something_Long_write_shared_wait("
            "Managed_Something_Long h, struct something_long **out, uint64_t timeout_ns) {")
    assert wrap_long_lines(line).split("\n") == [
        "static inline pm_status Managed_Something_Long_write_shared_wait("
        "Managed_Something_Long h,",
        " " * 65 + "struct something_long **out,",
        " " * 65 + "uint64_t timeout_ns) {",
    ]
    assert wrap_long_lines("#define X(a) \\\n" + "y" * 120) == "#define X(a) \\\n" + "y" * 120


def test_a_long_nested_call_is_cut_at_the_shallowest_comma_that_fits() -> None:
    from pmgen.render import wrap_long_lines
    line = ("    size_t size = PM_BOX_ALIGN_UP(PM_VARIANT_BOX_SIZE(Managed_Pad_SingleThreaded_box, "
            "Pad_SingleThreaded, Small), 32);")
    assert wrap_long_lines(line).split("\n") == [  # the outer ", 32" is past column 100
        "    size_t size = PM_BOX_ALIGN_UP(PM_VARIANT_BOX_SIZE(Managed_Pad_SingleThreaded_box,",
        "            Pad_SingleThreaded, Small), 32);",
    ]


def test_a_long_declaration_without_commas_is_cut_after_its_equals_sign() -> None:
    from pmgen.render import wrap_long_lines
    line = ("    Managed_Tree_ThreadSafe_box *box = (Managed_Tree_ThreadSafe_box *)"
            "pm_box_alloc_cyclic(&Managed_Tree_ThreadSafe__type);")
    assert wrap_long_lines(line).split("\n") == [
        "    Managed_Tree_ThreadSafe_box *box =",
        "            (Managed_Tree_ThreadSafe_box *)pm_box_alloc_cyclic("
        "&Managed_Tree_ThreadSafe__type);",
    ]


def test_a_long_typedef_is_cut_before_its_new_name() -> None:
    from pmgen.render import wrap_long_lines
    line = ("typedef Managed_Aligned_SingleThreaded_write_guard "
            "Managed_Aligned_SingleThreaded_write_shared_guard;")
    assert wrap_long_lines(line).split("\n") == [
        "typedef Managed_Aligned_SingleThreaded_write_guard",
        "    Managed_Aligned_SingleThreaded_write_shared_guard;",
    ]
