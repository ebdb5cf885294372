"""The Python API: the same loading, validation and rendering as the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any, Union

import yaml  # type: ignore[import]

from . import loader, schema
from .errors import SourceLocation, SpecError
from .output import write_all
from .render import Renderer

__version__ = "0.1.0"


def read_spec(path: Union[str, "os.PathLike[str]"]) -> tuple[str, str]:
    """Return (text, name used in messages) of a spec file.

    Reads at most MAX_SPEC_BYTES (so `pmgen /dev/zero` ends); SpecError if the
    file is larger or is not UTF-8 text. OSError if it cannot be read at all.
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        data = f.read(loader.MAX_SPEC_BYTES + 1)
    if len(data) > loader.MAX_SPEC_BYTES:
        raise SpecError(SourceLocation(name, 1, 1), "the spec is larger than "
                        f"{loader.MAX_SPEC_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
        raise SpecError(SourceLocation(name, data.count(b"\n", 0, exc.start) + 1, column),
                        f"the spec is not UTF-8 text: byte 0x{data[exc.start]:02X} here "
                        "does not start or continue a UTF-8 character") from None


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
        file = "<spec>"
        try:
            text = yaml.safe_dump(dict(spec), sort_keys=False, allow_unicode=True)
        except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
            raise SpecError(SourceLocation(file, 1, 1), "the spec mapping holds a value "
                            f"YAML cannot represent: {exc}") from None
    else:
        text, file = read_spec(spec)
    files = render_spec(text, file, Renderer())
    if out_dir is not None:
        write_all({Path(out_dir) / name: content for name, content in files.items()})
    return files
