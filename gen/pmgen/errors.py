"""Source locations and the one exception type the generator raises for bad specs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceLocation:
    """A 1-based line:column in a spec file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class SpecError(Exception):
    """A problem in a spec, found at `location`; `notes` point at related places.

    Raised where the problem is found and printed once, by the CLI, as
    ``file:line:col: error: message`` followed by one ``note:`` line per note.
    """

    location: SourceLocation
    message: str
    notes: list[tuple[SourceLocation, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def column(self) -> int:
        return self.location.column

    def __str__(self) -> str:
        # One line per diagnostic, whatever the spec's text: a newline (or any other
        # unprintable character) in a name or a file name is shown escaped, so it cannot
        # forge a second `file:line:col: error:` line.
        lines = [f"{printable(str(self.location))}: error: {printable(self.message)}"]
        lines += [f"{printable(str(where))}: note: {printable(text)}"
                  for where, text in self.notes]
        return "\n".join(lines)


def printable(text: str) -> str:
    """`text` with every unprintable character (newlines, U+2028, surrogates) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   if not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}" for c in text)
