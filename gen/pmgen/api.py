"""The Python API: the same loading, validation and rendering as the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any, Union

import yaml  # type: ignore[import]

from . import loader, schema
from .output import write_if_changed
from .render import Renderer

__version__ = "0.1.0"


def read_spec(path: Union[str, "os.PathLike[str]"]) -> tuple[str, str]:
    """Return (text, name used in messages) of a spec file."""
    name = os.fspath(path)
    with open(name, encoding="utf-8") as f:
        return f.read(), name


def render_spec(text: str, file: str, renderer: Renderer) -> dict[str, str]:
    """Load, validate and render one spec; raises SpecError."""
    module = schema.build(loader.load(text, file), file)
    return renderer.render(module, __version__)


def generate(spec: Union[str, "os.PathLike[str]", "MappingABC[str, Any]"],
             out_dir: Union[str, "os.PathLike[str]", None] = None) -> dict[str, str]:
    """Generate C from a spec; return {file name: text}, and write them to out_dir if given.

    `spec` is a path to a YAML spec, or an already-parsed mapping (whose errors
    are reported against its YAML rendering, named "<spec>"). Raises
    pmgen.SpecError (with .file, .line, .column, .message) for a bad spec.
    """
    if isinstance(spec, MappingABC):
        text, file = yaml.safe_dump(dict(spec), sort_keys=False), "<spec>"
    else:
        text, file = read_spec(spec)
    files = render_spec(text, file, Renderer())
    if out_dir is not None:
        for name, content in files.items():
            write_if_changed(Path(out_dir) / name, content)
    return files
