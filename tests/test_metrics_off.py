"""Contention metrics are a build option that costs nothing when off.

With PM_METRICS undefined, the translation unit the compiler sees has no
metrics data, no metrics calls and no counter updates: the hooks expand to
nothing and their arguments are not evaluated.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import RUNTIME, SPECS, STRICT, generate


def preprocess(source: Path, include: list[Path], *defines: str) -> str:
    cmd = ["gcc", *STRICT, "-E", "-P", *defines, *(f"-I{d}" for d in include), str(source)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def test_metrics_off_leaves_no_trace_in_the_compiled_code(tmp_path: Path) -> None:
    out = generate(SPECS / "all_policies.yaml", tmp_path)
    include = [RUNTIME, out, SPECS]
    source = out / "all_policies.c"
    off = preprocess(source, include)
    on = preprocess(source, include, "-DPM_METRICS")
    # Everything metric-related in the generated code (not the runtime's own
    # declarations in pm_metrics.h) is named Managed_*_metrics or all_policies_metrics.
    assert "_metrics)" not in off and "Managed_Point_ThreadSafe_metrics" not in off
    assert "all_policies_metrics" not in off
    assert "Managed_Point_ThreadSafe_metrics" in on and "all_policies_metrics" in on
    assert "pm__metric_borrow(&" not in off and "pm__metric_borrow(&" in on
