"""pmgen runs from a checkout, when pip-installed, and as meson's build step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_pmgen

EXAMPLE_SPEC = ROOT / "examples" / "items.yaml"


def test_checkout_wrapper_and_module_give_the_same_output(tmp_path: Path) -> None:
    wrapper = subprocess.run([str(ROOT / "bin" / "pmgen"), str(EXAMPLE_SPEC), "-o",
                              str(tmp_path / "a")], capture_output=True, text=True)
    assert wrapper.returncode == 0, wrapper.stderr
    assert run_pmgen(str(EXAMPLE_SPEC), "-o", str(tmp_path / "b")).returncode == 0
    for name in ("items.h", "items.c"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_pip_install_without_network_gives_a_working_console_script(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-index",  # no network, isolated build
         str(ROOT)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    version = subprocess.run([str(venv / "bin" / "pmgen"), "--version"],
                             capture_output=True, text=True)
    assert version.stdout == "pmgen 0.1.0\n"
    # Installed, it renders from its packaged templates, identical to the checkout.
    out = tmp_path / "installed"
    gen = subprocess.run([str(venv / "bin" / "python"), "-m", "pmgen", str(EXAMPLE_SPEC),
                          "-o", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert run_pmgen(str(EXAMPLE_SPEC), "-o", str(tmp_path / "checkout")).returncode == 0
    for name in ("items.h", "items.c"):
        assert (out / name).read_bytes() == (tmp_path / "checkout" / name).read_bytes()


def test_meson_builds_and_runs_the_example(tmp_path: Path) -> None:
    build = tmp_path / "build"
    setup = subprocess.run(["meson", "setup", str(build)], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    compile_ = subprocess.run(["meson", "compile", "-C", str(build)], capture_output=True,
                              text=True, timeout=600)
    assert compile_.returncode == 0, compile_.stdout + compile_.stderr
    run = subprocess.run([str(build / "examples" / "process_data")], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "copied on write: yes" in run.stdout
    assert "updated in place: yes" in run.stdout
    assert "no update lost" in run.stdout
