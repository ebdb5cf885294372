"""pmgen: monomorphized reference-counted boxes for C, from a YAML spec."""

from .api import __version__, generate
from .errors import SourceLocation, SpecError

__all__ = ["__version__", "generate", "SpecError", "SourceLocation"]
