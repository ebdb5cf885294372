"""The one list of what pmgen emits.

Every file-scope C name the output defines is an entry here: the operations
of a handle, the internal helpers, the types, the module's macros. Each entry
says which instances get it (the capabilities it requires) and whether the
module's `_Generic` macro of the same name dispatches to it. The clash checks
(`schema`), the generic macros and the templates (through `InstanceView.has`)
all read this list, so they cannot disagree.

Patterns name things as a spec without `prefix` has them; every name leaves
here through the module's `naming.Namer`, which puts the prefix in front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from . import naming
from .errors import SourceLocation
from .model import Instance, InstanceVariant, TypeDef

# Capabilities of an instance, decided once from its type and policy.
CELL = "cell"            # a cell tracks borrows (write_shared, borrow checks)
UNTRACKED = "untracked"  # no cell: a value pointer needs no borrow (_get)
BLOCKING = "blocking"    # the cell can be slept on (the _wait forms)
LOADABLE = "loadable"    # copy: trivial, so the value can be copied out (_load)
SNAPSHOT = "snapshot"    # loadable under a lock: the box keeps an optimistic snapshot
STRUCT = "struct"        # pmgen defines the value struct (a `fields` type)
HANDLES = "handles"      # the value holds managed fields (dropped without recursion)
CLONE_HOOK = "clone_hook"
DROP_HOOK = "drop_hook"
WEAK = "weak"            # `weak: true`: weak references, a weak count in the box
REGION = "region"        # `region: true`: Region_N_P_alloc, values in a pm_region
STORE = "store"          # `store: true`: Store_N_P, values in a generational store
CONVERTS = "converts"    # the type has other policies: Managed_N_P_to_Q for each
VARIANTS = "variants"    # a sum type: a tag, one constructor per variant
# Every value of a nullary variant is one immortal box, shared: only where the cell
# lets threads that do not synchronize use one box (not a borrow flag).
SHARED_NULLARY = "shared_nullary"


def capabilities(inst: Instance) -> frozenset[str]:
    """What an instance can do; every template decision is one of these."""
    cell, typedef = inst.policy.cell, inst.type
    caps = set()
    caps.add(CELL if cell.tracks_borrows else UNTRACKED)
    if cell.blocking:
        caps.add(BLOCKING)
    if typedef.copy_trivial:
        caps.add(LOADABLE)
        if cell.blocking and typedef.snapshot:
            caps.add(SNAPSHOT)
    if typedef.is_struct:
        caps.add(STRUCT)
    if inst.managed_fields:
        caps.add(HANDLES)
    if typedef.clone_hook:
        caps.add(CLONE_HOOK)
    if typedef.drop_hook:
        caps.add(DROP_HOOK)
    if typedef.weak:
        caps.add(WEAK)
    if typedef.region:
        caps.add(REGION)
    if typedef.store:
        caps.add(STORE)
    if inst.conversions:
        caps.add(CONVERTS)
    if typedef.is_sum:
        caps.add(VARIANTS)
        if cell.shareable:
            caps.add(SHARED_NULLARY)
    return frozenset(caps)


@dataclass(frozen=True)
class Generic:
    """The module macro `<module>_<op>(params)` selecting on `dispatch`."""

    params: str
    dispatch: str


# Which variants of a sum type a `per_variant` entry names.
ALL_VARIANTS = "all"
NULLARY_VARIANTS = "nullary"  # no fields
VARIANTS_WITH_HANDLES = "handles"  # managed fields


@dataclass(frozen=True)
class Entry:
    """One file-scope name per instance: `pattern` over {handle}, {value}, {weak},
    {region}, {store}, {store_handle} and {store_weak} (`naming.instance_bases`;
    unprefixed: `instance_names` prefixes the whole name).

    A `per_target` entry is one name per other policy of the instance's type,
    `pattern` also over {target} (that policy's name); a `per_variant` one is one
    name per variant of a sum type (those `per_variant` selects), also over {variant}.
    An entry is the instance's when it has every capability of `requires` and none
    of `excludes`.
    """

    op: str  # the key templates ask for with `i.has(op)`
    pattern: str
    kind: str  # "function", "type", "variable"
    requires: frozenset[str] = frozenset()
    generic: Optional[Generic] = None
    per_target: bool = False
    excludes: frozenset[str] = frozenset()
    per_variant: str = ""

    def name(self, bases: dict[str, str], target: str = "", variant: str = "") -> str:
        return self.pattern.format(target=target, variant=variant, **bases)

    def applies(self, caps: frozenset[str]) -> bool:
        return self.requires <= caps and not self.excludes & caps


def _e(op: str, kind: str = "function", requires: tuple[str, ...] = (),
       generic: Optional[tuple[str, str]] = None, pattern: str = "",
       excludes: tuple[str, ...] = (), per_variant: str = "") -> Entry:
    return Entry(op, pattern or f"{{handle}}_{op}", kind, frozenset(requires),
                 Generic(*generic) if generic else None, excludes=frozenset(excludes),
                 per_variant=per_variant)


# Every name an instance emits, in the order the header declares them.
INSTANCE_ENTRIES: tuple[Entry, ...] = (
    _e("handle", "type", pattern="{handle}"),
    _e("box", "type", pattern="{handle}_box"),
    _e("value_struct", "type", (STRUCT,), pattern="{value}"),
    _e("value_clone", "function", (STRUCT,), pattern="{value}_clone"),
    _e("value_drop", "function", (STRUCT,), pattern="{value}_drop"),
    _e("type_descriptor", "variable", pattern="{handle}__type"),
    _e("fields_table", "variable", (HANDLES,), pattern="{handle}__fields", excludes=(VARIANTS,)),
    # Sum types: each variant's managed fields and sizes, and the shared nullary boxes.
    _e("variant_fields_table", "variable", (VARIANTS,), pattern="{handle}__fields_{variant}",
       per_variant=VARIANTS_WITH_HANDLES),
    _e("variants_table", "variable", (VARIANTS,), pattern="{handle}__variants"),
    _e("nullary_box", "variable", (VARIANTS, SHARED_NULLARY),
       pattern="{handle}__nullary_{variant}", per_variant=NULLARY_VARIANTS),
    _e("clone_thunk", "function", (CLONE_HOOK,), pattern="{handle}__clone"),
    _e("drop_thunk", "function", (DROP_HOOK,), pattern="{handle}__drop"),
    _e("metrics", "variable"),
    _e("new", generic=("out, value", "*(out)")),
    # Sum types: a constructor per variant (fields as parameters), and the tag.
    _e("new_variant", requires=(VARIANTS,), pattern="{handle}_new_{variant}",
       per_variant=ALL_VARIANTS),
    _e("new_variant_reuse", requires=(VARIANTS,), pattern="{handle}_new_{variant}_reuse",
       per_variant=ALL_VARIANTS),
    _e("tag", requires=(VARIANTS,), generic=("h", "(h)")),
    _e("dup", generic=("h", "(h)")),
    _e("try_dup", generic=("h, out", "(h)")),
    _e("drop", generic=("hp", "*(hp)")),
    _e("refcount", generic=("h", "(h)")),
    _e("is_unique", generic=("h", "(h)")),
    _e("read", generic=("h, out", "(h)")),
    _e("release_read", generic=("h", "(h)")),
    _e("write", generic=("hp, out", "*(hp)")),
    _e("release_write", generic=("h", "(h)")),
    _e("write_shared", requires=(CELL,), generic=("h, out", "(h)")),
    _e("load", requires=(LOADABLE,), generic=("h, out", "(h)")),
    _e("read_wait", requires=(BLOCKING,), generic=("h, out, timeout_ns", "(h)")),
    _e("write_wait", requires=(BLOCKING,), generic=("hp, out, timeout_ns", "*(hp)")),
    _e("write_shared_wait", requires=(BLOCKING,), generic=("h, out, timeout_ns", "(h)")),
    # -- lock downgrade: a write borrow becomes a read borrow, no writer in between --
    _e("downgrade_write", requires=(CELL,), generic=("h", "(h)")),
    # -- end of lock downgrade --
    _e("try_unwrap", generic=("hp, out", "*(hp)")),
    _e("unwrap_or_drop", generic=("hp, out", "*(hp)")),
    _e("into_inner", generic=("hp, out", "*(hp)")),
    _e("into_raw", generic=("h", "(h)")),
    _e("from_raw"),
    _e("ptr_eq", generic=("a, b", "(a)")),
    _e("get", requires=(UNTRACKED,), generic=("h", "(h)")),
    # Perceus reuse.
    _e("drop_reuse", generic=("hp, token", "*(hp)")),
    _e("take_reuse", generic=("hp, out, token", "*(hp)")),
    _e("new_reuse", generic=("out, token, value", "*(out)")),
    # Weak references (weak: true): the Weak_N_P type and its functions.
    _e("weak_handle", "type", (WEAK,), pattern="{weak}"),
    _e("downgrade", requires=(WEAK,), generic=("h, out", "(h)")),
    _e("weak_count", requires=(WEAK,)),
    _e("new_cyclic", requires=(WEAK,), excludes=(VARIANTS,)),  # a variant's size comes later
    _e("weak_dup", requires=(WEAK,), pattern="{weak}_dup"),
    _e("weak_drop", requires=(WEAK,), pattern="{weak}_drop"),
    _e("weak_upgrade", requires=(WEAK,), pattern="{weak}_upgrade"),
    _e("weak_strong_count", requires=(WEAK,), pattern="{weak}_strong_count"),
    _e("weak_weak_count", requires=(WEAK,), pattern="{weak}_weak_count"),
    # Regions (region: true): the value moves into a pm_region, dropped at reset/fini.
    _e("region_alloc", requires=(REGION,), pattern="{region}_alloc"),
    # Generational stores (store: true): the store, its handles, and the contract's calls.
    _e("store", "type", (STORE,), pattern="{store}"),
    _e("store_handle", "type", (STORE,), pattern="{store_handle}"),
    _e("store_weak", "type", (STORE,), pattern="{store_weak}"),
    _e("store_init", requires=(STORE,), pattern="{store}_init"),
    _e("store_fini", requires=(STORE,), pattern="{store}_fini"),
    _e("store_len", requires=(STORE,), pattern="{store}_len"),
    _e("store_alloc", requires=(STORE,), pattern="{store}_alloc"),
    _e("store_retain", requires=(STORE,), pattern="{store}_retain"),
    _e("store_release", requires=(STORE,), pattern="{store}_release"),
    _e("store_ref_count", requires=(STORE,), pattern="{store}_ref_count"),
    _e("store_get", requires=(STORE,), pattern="{store}_get"),
    _e("store_release_get", requires=(STORE,), pattern="{store}_release_get"),
    _e("store_try_get_unique", requires=(STORE,), pattern="{store}_try_get_unique"),
    _e("store_release_unique", requires=(STORE,), pattern="{store}_release_unique"),
    _e("store_weak_from_handle", requires=(STORE,), pattern="{store_weak}_from_handle"),
    _e("store_weak_is_alive", requires=(STORE,), pattern="{store_weak}_is_alive"),
    _e("store_weak_upgrade", requires=(STORE,), pattern="{store_weak}_upgrade"),
    _e("read_guard", "type"),
    _e("write_guard", "type"),
    _e("write_shared_guard", "type", (CELL,)),
    _e("read_guard_begin"),
    _e("read_guard_end"),
    _e("write_guard_begin"),
    _e("write_guard_end"),
    _e("write_shared_guard_begin", requires=(CELL,)),
    _e("write_shared_guard_end", requires=(CELL,)),
    _e("read_guard_begin_wait", requires=(BLOCKING,)),
    _e("write_guard_begin_wait", requires=(BLOCKING,)),
    _e("write_shared_guard_begin_wait", requires=(BLOCKING,)),
    # ---- conversion between policies (Managed_N_P_to_Q, one per other policy Q) ----
    Entry("to", "{handle}_to_{target}", "function", frozenset((CONVERTS,)), per_target=True),
    _e("family_table", "variable", (CONVERTS,), pattern="{handle}__family"),
    # ---- end of conversion ----
)


@dataclass(frozen=True)
class ModuleEntry:
    """A name the module emits once: `pattern` over {module} and {MODULE} (unprefixed)."""

    key: str  # what the templates ask for: `names.<key>`
    pattern: str
    kind: str  # "function", "variable", "macro"

    def name(self, module: str) -> str:
        return self.pattern.format(module=module, MODULE=module.upper())


MODULE_ENTRIES: tuple[ModuleEntry, ...] = (
    ModuleEntry("guard", "PMGEN_{module}_H", "macro"),  # the include guard: case kept, so unique
    ModuleEntry("metrics", "{module}_metrics", "function"),
    ModuleEntry("metrics_print", "{module}_metrics_print", "function"),
    ModuleEntry("all_metrics", "{module}__all_metrics", "variable"),
)


def module_entry_names(module: str, namer: naming.Namer) -> dict[str, str]:
    """The module's own names (include guard, metrics functions) by their entry's key."""
    return {e.key: namer.c_name(e.name(module)) for e in MODULE_ENTRIES}


def generic_macro_name(module: str, op: str, namer: naming.Namer) -> str:
    """The module's `_Generic` macro for operation `op`: `<module>_<op>`, prefixed."""
    return namer.c_name(f"{module}_{op}")


def selected_variants(entry: Entry, inst: Instance) -> list[InstanceVariant]:
    """The variants of `inst` a per_variant entry names, in the spec's order."""
    if entry.per_variant == NULLARY_VARIANTS:
        return [v for v in inst.variants if not v.fields]
    if entry.per_variant == VARIANTS_WITH_HANDLES:
        return [v for v in inst.variants if v.managed_fields]
    return list(inst.variants)


def _entries(inst: Instance) -> Iterator[tuple[Entry, str, str]]:
    """The entries `inst` gets, each with its target policy ("" unless per_target) and
    its variant ("" unless per_variant)."""
    caps = capabilities(inst)
    for entry in INSTANCE_ENTRIES:
        if not entry.applies(caps):
            continue
        if entry.per_target:
            for other in inst.conversions:
                yield entry, other.policy.name, ""
        elif entry.per_variant:
            for variant in selected_variants(entry, inst):
                yield entry, "", variant.name
        else:
            yield entry, "", ""


def instance_names(inst: Instance, namer: naming.Namer) -> Iterator[tuple[str, Entry, str]]:
    """Every file-scope name `inst` emits, with its registry entry and its variant ("" if none)."""
    bases = naming.instance_bases(inst.type.name, inst.policy.name)
    for entry, target, variant in _entries(inst):
        yield namer.c_name(entry.name(bases, target, variant)), entry, variant


def names_by_op(inst: Instance, namer: naming.Namer) -> dict[str, str]:
    """The one name of each entry of `inst` that is neither per target nor per variant."""
    return {entry.op: name for name, entry, _ in instance_names(inst, namer)
            if not entry.per_target and not entry.per_variant}


def type_names(typedef: TypeDef, namer: naming.Namer) -> Iterator[tuple[str, str]]:
    """The names a sum type emits once, whatever its policies: (name, its variant or "")."""
    if typedef.is_sum:
        yield namer.tag_type(typedef.name), ""
        for variant in typedef.variants:
            yield namer.tag_constant(typedef.name, variant.name), variant.name


def operations(inst: Instance) -> frozenset[str]:
    """The registry keys `inst` gets: what `InstanceView.has` answers."""
    return frozenset(entry.op for entry, _, _ in _entries(inst))


def generic_entries() -> list[Entry]:
    return [e for e in INSTANCE_ENTRIES if e.generic is not None]


def module_names(module: str, namer: naming.Namer) -> Iterator[str]:
    """Every file-scope name the module emits besides its instances'."""
    for entry in generic_entries():
        yield generic_macro_name(module, entry.op, namer)
    yield from module_entry_names(module, namer).values()


@dataclass(frozen=True)
class Claim:
    """A C name the output will contain, who emits it and where the spec asked for it."""

    name: str
    location: SourceLocation
    owner: str  # two claims of one name by the same owner are one name
    verb: str = "generates"


def claims(module: str, module_location: SourceLocation, instances: list[Instance],
           namer: naming.Namer) -> Iterator[Claim]:
    """Every file-scope name of the output, the spec's hooks (never prefixed) included."""
    sum_types: dict[str, TypeDef] = {}
    for inst in instances:
        owner = f"'{inst.type.name}' under '{inst.policy.name}'"
        variant_locations = {v.name: v.location for v in inst.variants}
        for name, _, variant in instance_names(inst, namer):
            # A variant's names are its own: two of them clash even within one instance.
            if variant:
                yield Claim(name, variant_locations[variant], f"variant '{variant}' of {owner}")
            else:
                yield Claim(name, inst.location, owner)
        if inst.type.is_sum:
            sum_types.setdefault(inst.type.name, inst.type)
    for typedef in sum_types.values():
        for name, variant in type_names(typedef, namer):
            where = next((v.location for v in typedef.variants if v.name == variant),
                         typedef.location)
            yield Claim(name, where, f"variant '{variant}' of '{typedef.name}'" if variant
                        else f"sum type '{typedef.name}'")
    for name in module_names(module, namer):
        yield Claim(name, module_location, f"module '{module}'")
    for inst in instances:  # hooks after generated names: a clash points at the hook
        for kind, hook in (("clone", inst.type.clone_hook), ("drop", inst.type.drop_hook)):
            if hook is not None:
                # One hook may serve several types of one C type: one prototype.
                yield Claim(hook, inst.type.hook_locations[kind],
                            f"the {kind} hook for '{inst.type.c_type}'", "is named")


def generic_macros(module: str, instances: list[Instance], namer: naming.Namer
                   ) -> list[tuple[str, str, Generic, list[str]]]:
    """(op, macro name, form, handles it dispatches over) for every op some instance has."""
    macros = []
    for entry in generic_entries():
        handles = [namer.handle(i.type.name, i.policy.name)
                   for i in instances if entry.applies(capabilities(i))]
        if handles and entry.generic is not None:
            macros.append((entry.op, generic_macro_name(module, entry.op, namer), entry.generic,
                           handles))
    return macros
