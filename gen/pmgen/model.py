"""The validated model of a spec: building blocks, policies, types, instances.

Every node carries the SourceLocation it came from. Templates see only this
model (through `render`), never the raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .errors import SourceLocation
from .naming import Namer


@dataclass(frozen=True)
class CounterKind:
    """How the owner count is kept: the runtime's pm_count_<name> functions."""

    name: str  # "plain" | "atomic"
    threadsafe: bool

    @property
    def c_type(self) -> str:
        return f"pm_count_{self.name}"

    @property
    def prefix(self) -> str:
        """The runtime's verbs of this counter are <prefix>_<verb>; also its state's type."""
        return self.c_type

    @property
    def constant(self) -> str:
        """The kind as the runtime's descriptor names it (pm_box_type.counter)."""
        return f"PM_COUNTER_{self.name.upper()}"


@dataclass(frozen=True)
class CellKind:
    """How borrows are tracked: the runtime's cell functions, if any."""

    name: str  # "borrow" | "rwlock" | "none"
    c_type: Optional[str]  # None: no cell state at all
    blocking: bool  # has _wait forms (a lock that can be slept on)
    # One box may be used from threads that do not synchronize: a borrow flag may not
    # (values of one policy live in several threads; a shared box's flag would race).
    shareable: bool

    @property
    def tracks_borrows(self) -> bool:
        return self.c_type is not None

    @property
    def prefix(self) -> str:
        """The runtime's verbs of this cell are <prefix>_<verb>; also its state's type."""
        return self.c_type or ""

    @property
    def constant(self) -> str:
        """The kind as the runtime's descriptor names it (pm_box_type.cell)."""
        return f"PM_CELL_{self.name.upper()}"

    @property
    def conflict_status(self) -> str:
        """What a borrow refused by another borrow reports: a lock is busy, a flag borrowed."""
        return "PM_EBUSY" if self.blocking else "PM_EBORROWED"


COUNTERS = {
    "plain": CounterKind("plain", threadsafe=False),
    "atomic": CounterKind("atomic", threadsafe=True),
}
CELLS = {
    "borrow": CellKind("borrow", "pm_cell_borrow", blocking=False, shareable=False),
    "rwlock": CellKind("rwlock", "pm_rwlock", blocking=True, shareable=True),
    "none": CellKind("none", None, blocking=False, shareable=True),
}
# The combinations DESIGN.md allows: a borrow flag is only sound single-threaded,
# a lock is only useful shared.
ALLOWED_COMBINATIONS = {("plain", "borrow"), ("plain", "none"),
                        ("atomic", "rwlock"), ("atomic", "none")}


@dataclass(frozen=True)
class Policy:
    name: str
    counter: CounterKind
    cell: CellKind
    location: Optional[SourceLocation]  # None for the built-in policies

    @property
    def threadsafe(self) -> bool:
        return self.counter.threadsafe


BUILTIN_POLICIES = {
    "SingleThreaded": Policy("SingleThreaded", COUNTERS["plain"], CELLS["borrow"], None),
    "ThreadSafe": Policy("ThreadSafe", COUNTERS["atomic"], CELLS["rwlock"], None),
}
# The seed's table: which policy a code-generation context needs.
CONTEXT_POLICIES = {
    "sync": "SingleThreaded",
    "threadsafe": "ThreadSafe",
    "async": "ThreadSafe",
    "parallel": "ThreadSafe",
}


@dataclass
class Field:
    """A field of a `fields` type: a plain C type, or a handle of a spec type."""

    name: str
    location: SourceLocation
    c_type: Optional[str] = None  # plain field
    managed: Optional[str] = None  # the spec type name of a managed field
    policy: Optional[str] = None  # explicit policy of a managed field
    weak: bool = False  # {weak: M}: a weak reference, not an owner
    managed_location: Optional[SourceLocation] = None  # where the field names its type


@dataclass
class Variant:
    """A variant of a sum type (`variants:`): its fields, possibly none (nullary)."""

    name: str
    location: SourceLocation
    fields: list[Field] = field(default_factory=list)


@dataclass
class TypeDef:
    name: str
    location: SourceLocation
    c_type: Optional[str] = None  # `ctype` types
    copy_trivial: bool = False
    weak: bool = False  # `weak: true`: the box keeps a weak count
    region: bool = False  # `region: true`: values can be allocated in a pm_region
    store: bool = False  # `store: true`: values can live in a generational store
    snapshot: bool = True  # `snapshot: false`: no optimistic _load snapshot under a lock cell
    box_align: int = 0  # `box_align: N`: boxes start at a multiple of N bytes; 0: malloc's
    clone_hook: Optional[str] = None
    drop_hook: Optional[str] = None
    hook_locations: dict[str, SourceLocation] = field(default_factory=dict)  # "clone"/"drop"
    fields: list[Field] = field(default_factory=list)  # `fields` types
    variants: list[Variant] = field(default_factory=list)  # sum types (`variants`)
    # (policy, where the spec asked for it: a policies/contexts entry)
    policies: list[tuple[Policy, SourceLocation]] = field(default_factory=list)

    @property
    def is_struct(self) -> bool:
        """pmgen defines the value type: a `fields` struct or a sum type's tagged union."""
        return self.c_type is None

    @property
    def is_sum(self) -> bool:
        return bool(self.variants)

    @property
    def all_fields(self) -> list[Field]:
        """The fields of a `fields` type, or of every variant of a sum type."""
        return self.fields + [f for v in self.variants for f in v.fields]


@dataclass
class InstanceField:
    """A field resolved under one policy: plain, or a handle of `target`."""

    name: str
    c_type: str
    target: Optional["Instance"]  # set for managed fields
    weak: bool = False  # a weak reference to `target`


@dataclass
class InstanceVariant:
    """A variant of a sum type resolved under one policy."""

    name: str
    location: SourceLocation
    fields: list[InstanceField] = field(default_factory=list)

    @property
    def managed_fields(self) -> list[InstanceField]:
        return [f for f in self.fields if f.target is not None]


@dataclass
class Instance:
    """One (type, policy) pair: the unit of generated code, Managed_<T>_<P>."""

    type: TypeDef
    policy: Policy
    location: SourceLocation  # where this instantiation was asked for
    fields: list[InstanceField] = field(default_factory=list)  # every variant's, for a sum type
    variants: list[InstanceVariant] = field(default_factory=list)
    # Set when the instance exists only because a managed field needs it.
    required_by: Optional[SourceLocation] = None
    # The same type under each other policy of the module: Managed_N_P_to_Q for each.
    conversions: list["Instance"] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type.name, self.policy.name)

    @property
    def managed_fields(self) -> list[InstanceField]:
        return [f for f in self.fields if f.target is not None]


@dataclass
class Module:
    name: str
    location: SourceLocation
    spec_file: str
    includes: list[str]
    policies: dict[str, Policy]
    types: dict[str, TypeDef]
    instances: list[Instance]
    namer: Namer  # puts the spec's `prefix` on every generated name
