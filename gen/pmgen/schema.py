"""From loaded YAML nodes to the validated model (spec format version 1).

Each check raises SpecError at the node it is about, so every message has the
line and column a user should look at.
"""

from __future__ import annotations

import re
from typing import Collection, Optional

from . import ctext, naming, registry
from .errors import SourceLocation, SpecError
from .loader import Mapping, Node, Scalar, Sequence
from .reserved import C_LIBRARY_NAMES
from .model import (ALLOWED_COMBINATIONS, BUILTIN_POLICIES, CELLS, CONTEXT_POLICIES,
                    COUNTERS, Field, Instance, InstanceField, InstanceVariant, Module, Policy,
                    TypeDef, Variant)

SPEC_VERSION = 1
MAX_INSTANCES = 10_000  # (type, policy) pairs of one module: bounds the output's size
MAX_CONVERSIONS = 10_000  # Managed_N_P_to_Q functions (ordered policy pairs of one type)
RUNTIME_HEADER = "pm"  # runtime/pm.h, included by every generated header
# Headers a module's <module>.h must not be named like: C11's, and POSIX's and Linux's
# that a program using the output (or the runtime) commonly includes.
SYSTEM_HEADERS = frozenset("""
    assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal
    stdalign stdarg stdatomic stdbool stddef stdint stdio stdlib stdnoreturn string tgmath
    threads time uchar wchar wctype
    aio alloca arpa cpio dirent dlfcn endian err fcntl features fnmatch ftw getopt glob grp
    iconv langinfo libgen malloc memory monetary mqueue netdb nl_types poll pthread pwd regex
    sched search semaphore spawn strings syscall syslog tar termios ucontext ulimit unistd
    utime utmp utmpx wordexp
""".split())
_TOP_KEYS = ("pmgen", "module", "prefix", "includes", "policies", "types")
_POLICY_KEYS = ("counter", "cell")
_TYPE_KEYS = ("ctype", "copy", "clone", "drop", "fields", "variants", "policies", "contexts",
              "weak", "region", "store", "snapshot", "box_align")
# `box_align`: a power of two up to a page (aligned_alloc's alignments on every libc we know).
_MAX_BOX_ALIGN = 4096
# A sum type's value struct has a member `tag` beside its variants' members.
_TAG_MEMBER = "tag"
_MANAGED_KEYS = ("managed", "weak", "policy")


def _kind(node: Node) -> str:
    if isinstance(node, Scalar):
        return "null" if node.kind == "null" else f"{node.kind} {node.value!r}"
    return "a list" if isinstance(node, Sequence) else "a mapping"


def _mapping(node: Node, what: str, allowed: tuple[str, ...]) -> Mapping:
    if not isinstance(node, Mapping):
        raise SpecError(node.location, f"{what} must be a mapping, not {_kind(node)}")
    for key, (key_loc, _) in node.entries.items():
        if key not in allowed:
            raise SpecError(key_loc, f"unknown key '{key}' in {what}; expected one of: "
                            + ", ".join(allowed))
    return node


def _string(node: Node, what: str) -> str:
    if not isinstance(node, Scalar) or node.kind != "str":
        hint = ("; quote it if you meant the text"
                if isinstance(node, Scalar) and node.kind != "null" else "")
        raise SpecError(node.location, f"{what} must be a string, not {_kind(node)}{hint}")
    return str(node.value)


def _string_list(node: Node, what: str) -> list[tuple[str, SourceLocation]]:
    if not isinstance(node, Sequence):
        raise SpecError(node.location, f"{what} must be a list, not {_kind(node)}")
    items = [(_string(item, f"an entry of {what}"), item.location) for item in node.items]
    seen: dict[str, SourceLocation] = {}
    for text, loc in items:
        if text in seen:
            raise SpecError(loc, f"'{text}' is listed twice in {what}",
                            [(seen[text], "first listed here")])
        seen[text] = loc
    return items


def _get(node: Mapping, key: str) -> Optional[Node]:
    entry = node.entries.get(key)
    return entry[1] if entry else None


def _key_location(node: Mapping, key: str) -> SourceLocation:
    return node.entries[key][0]


def _version(root: Mapping) -> None:
    node = _get(root, "pmgen")
    if node is None:
        raise SpecError(root.location, "missing required key 'pmgen' (the spec format "
                        f"version; this pmgen reads version {SPEC_VERSION})")
    if not isinstance(node, Scalar) or node.kind != "int":
        raise SpecError(node.location, f"'pmgen' must be the integer {SPEC_VERSION}, "
                        f"not {_kind(node)}; write 'pmgen: {SPEC_VERSION}' without quotes")
    if node.value != SPEC_VERSION:
        raise SpecError(node.location, f"unsupported spec version {node.value}; this pmgen "
                        f"reads version {SPEC_VERSION}")


def _module_name(root: Mapping) -> tuple[str, SourceLocation]:
    node = _get(root, "module")
    if node is None:
        raise SpecError(root.location, "missing required key 'module' (names the output "
                        "files <module>.h and <module>.c)")
    name = _string(node, "'module'")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("~"):
        raise SpecError(node.location, f"module '{name}' would write outside the output "
                        "folder; a module is a plain name such as 'shapes'")
    naming.check_identifier(name, node.location, "module")
    if name == RUNTIME_HEADER or name.startswith(naming.RUNTIME_PREFIXES):
        raise SpecError(node.location, f"module '{name}' would write {name}.h, a name of the "
                        "runtime's headers (pm.h, pm_*.h) that the generated code includes; "
                        "choose another name")
    if name in SYSTEM_HEADERS:
        raise SpecError(node.location, f"module '{name}' would write {name}.h, which would "
                        f"hide the system header <{name}.h> wherever the output folder is on "
                        "the include path; choose another name")
    return name, node.location


def _namer(root: Mapping) -> naming.Namer:
    """`prefix: NAME`: `NAME_` before every generated name (none without the key)."""
    node = _get(root, "prefix")
    if node is None:
        return naming.Namer()
    prefix = _string(node, "'prefix'")
    naming.check_prefix(prefix, node.location)
    return naming.Namer(prefix)


def _policies(root: Mapping) -> dict[str, Policy]:
    policies = dict(BUILTIN_POLICIES)
    node = _get(root, "policies")
    if node is None:
        return policies
    spec = _mapping(node, "'policies'", tuple(node.entries) if isinstance(node, Mapping) else ())
    for name, (name_loc, body_node) in spec.entries.items():
        naming.check_identifier(name, name_loc, "policy name")
        if name in BUILTIN_POLICIES:
            raise SpecError(name_loc, f"policy '{name}' is built in and cannot be redefined")
        body = _mapping(body_node, f"policy '{name}'", _POLICY_KEYS)
        blocks: dict[str, str] = {}
        tables: tuple[tuple[str, Collection[str]], ...] = (("counter", COUNTERS), ("cell", CELLS))
        for block, table in tables:
            value_node = _get(body, block)
            if value_node is None:
                raise SpecError(body.location, f"policy '{name}' is missing '{block}' (one of: "
                                + ", ".join(table) + ")")
            value = _string(value_node, f"'{block}' of policy '{name}'")
            if value not in table:
                raise SpecError(value_node.location, f"unknown {block} '{value}' in policy "
                                f"'{name}'; expected one of: " + ", ".join(table))
            blocks[block] = value
        if (blocks["counter"], blocks["cell"]) not in ALLOWED_COMBINATIONS:
            allowed = ", ".join(f"{c} + {k}" for c, k in sorted(ALLOWED_COMBINATIONS))
            raise SpecError(body.location, f"policy '{name}': counter '{blocks['counter']}' "
                            f"with cell '{blocks['cell']}' is not a supported combination; "
                            f"the combinations are {allowed}")
        policies[name] = Policy(name, COUNTERS[blocks["counter"]], CELLS[blocks["cell"]],
                                name_loc)
    return policies


def _field(name: str, name_loc: SourceLocation, node: Node, owner: str,
           type_names: set[str], policies: dict[str, Policy]) -> Field:
    naming.check_free_name(name, name_loc, "field name", f" of type '{owner}'")
    if not isinstance(node, Mapping) and not (isinstance(node, Scalar) and node.kind == "str"):
        raise SpecError(node.location, f"field '{name}' of '{owner}' must be a C type (a string)"
                        " or {managed: TYPE}, not " + _kind(node))
    if isinstance(node, Scalar):
        c_type = _string(node, f"field '{name}' of '{owner}'")
        c_type = ctext.c_type(c_type, node.location, f"the C type of field '{name}' of '{owner}'")
        return Field(name, name_loc, c_type=c_type)
    body = _mapping(node, f"field '{name}' of '{owner}'", _MANAGED_KEYS)
    if "managed" in body.entries and "weak" in body.entries:
        raise SpecError(_key_location(body, "weak"), f"field '{name}' of '{owner}' has both "
                        "'managed' and 'weak'; a field is an owner ({managed: TYPE}) or a weak "
                        "reference ({weak: TYPE}), not both")
    weak = "weak" in body.entries
    key = "weak" if weak else "managed"
    managed = _get(body, key)
    if managed is None:
        raise SpecError(body.location, f"field '{name}' of '{owner}' has no 'managed'; a field"
                        " is a C type, {managed: TYPE} or {managed: TYPE, policy: POLICY}, or a"
                        " weak reference {weak: TYPE}")
    managed_name = _string(managed, f"'{key}' of field '{name}' of '{owner}'")
    if managed_name not in type_names:
        raise SpecError(managed.location, f"field '{name}' of '{owner}' is managed type "
                        f"'{managed_name}', which the spec does not define; defined types: "
                        + ", ".join(sorted(type_names)))
    policy = _get(body, "policy")
    policy_name = None
    if policy is not None:
        policy_name = _string(policy, f"'policy' of field '{name}' of '{owner}'")
        if policy_name not in policies:
            raise SpecError(policy.location, f"unknown policy '{policy_name}' for field "
                            f"'{name}' of '{owner}'; known policies: " + ", ".join(policies))
    return Field(name, name_loc, managed=managed_name, policy=policy_name, weak=weak,
                 managed_location=managed.location)


def _variants(name: str, node: Node, type_names: set[str],
              policies: dict[str, Policy]) -> list[Variant]:
    """A sum type's variants: each a mapping of fields, or empty (nullary)."""
    variant_map = _mapping(node, f"'variants' of '{name}'",
                           tuple(node.entries) if isinstance(node, Mapping) else ())
    if not variant_map.entries:
        raise SpecError(node.location, f"type '{name}' has no variants; a sum type needs at "
                        "least one")
    variants = []
    for vname, (vloc, vnode) in variant_map.entries.items():
        naming.check_free_name(vname, vloc, "variant name", f" of type '{name}'")
        if vname == _TAG_MEMBER:
            raise SpecError(vloc, f"variant name '{vname}' of type '{name}' is the member that "
                            "holds the tag (value.tag); choose another name")
        owner = f"{name}.{vname}"
        if isinstance(vnode, Scalar) and vnode.kind == "null":
            variants.append(Variant(vname, vloc))
            continue
        if not isinstance(vnode, Mapping):
            raise SpecError(vnode.location, f"variant '{vname}' of '{name}' must be a mapping "
                            "of fields, or {} for a variant without fields, not " + _kind(vnode))
        variant = Variant(vname, vloc)
        for fname, (floc, fnode) in vnode.entries.items():
            spec_field = _field(fname, floc, fnode, owner, type_names, policies)
            if fname in naming.CONSTRUCTOR_LOCALS:
                raise SpecError(floc, f"field name '{fname}' of variant '{vname}' of '{name}' "
                                "is also a parameter or local of the generated constructors "
                                f"(the variant's fields are their parameters); choose another "
                                "name")
            variant.fields.append(spec_field)
        variants.append(variant)
    return variants


def _type_policies(name: str, body: Mapping, policies: dict[str, Policy],
                   name_loc: SourceLocation) -> list[tuple[Policy, SourceLocation]]:
    contexts = _get(body, "contexts")
    derived: list[tuple[Policy, SourceLocation]] = []
    if contexts is not None:
        listed = _string_list(contexts, f"'contexts' of '{name}'")
        if not listed:
            raise SpecError(contexts.location, f"'contexts' of '{name}' is empty; list at least "
                            "one context, or leave 'contexts' out")
        for context, loc in listed:
            if context not in CONTEXT_POLICIES:
                raise SpecError(loc, f"unknown context '{context}' in 'contexts' of "
                                f"'{name}'; expected one of: "
                                + ", ".join(CONTEXT_POLICIES))
            policy = policies[CONTEXT_POLICIES[context]]
            if all(p is not policy for p, _ in derived):
                derived.append((policy, loc))
    explicit = _get(body, "policies")
    if explicit is None:  # explicit `policies` overrides contexts
        return derived or [(policies["SingleThreaded"], name_loc)]
    chosen = []
    for policy_name, loc in _string_list(explicit, f"'policies' of '{name}'"):
        if policy_name not in policies:
            raise SpecError(loc, f"unknown policy '{policy_name}' in 'policies' of '{name}'"
                            "; known policies: " + ", ".join(policies))
        chosen.append((policies[policy_name], loc))
    if not chosen:
        raise SpecError(explicit.location, f"'policies' of '{name}' is empty; list at least "
                        "one policy, or leave 'policies' out")
    return chosen


def _flag(body: Mapping, key: str, name: str, default: bool = False) -> bool:
    """A type's on/off key (`weak`, `region`, `snapshot`): true or false, else the default."""
    node = _get(body, key)
    if node is None:
        return default
    if not isinstance(node, Scalar) or node.kind != "bool":
        raise SpecError(node.location, f"'{key}' of '{name}' must be true or false, not "
                        f"{_kind(node)}")
    return bool(node.value)


def _check_snapshot(name: str, body: Mapping, typedef: TypeDef) -> None:
    """`snapshot` only where a box keeps one: a `copy: trivial` ctype under a lock cell."""
    if "snapshot" not in body.entries:
        return
    where = _key_location(body, "snapshot")
    copy_node = _get(body, "copy")
    if copy_node is None:
        raise SpecError(where, f"'snapshot' of '{name}' applies only to 'copy: trivial' types "
                        "(the _load snapshot is a copy of the value)")
    if not any(policy.cell.blocking for policy, _ in typedef.policies):
        raise SpecError(where, f"'snapshot' of '{name}' applies only under a lock cell "
                        f"(cell: rwlock), and no policy of '{name}' has one")


def _box_align(body: Mapping, name: str) -> int:
    """`box_align`: a power of two from 1 to _MAX_BOX_ALIGN, else 0 (malloc's alignment)."""
    node = _get(body, "box_align")
    if node is None:
        return 0
    value = node.value if isinstance(node, Scalar) and node.kind == "int" else None
    if not isinstance(value, int) or value < 1 or value > _MAX_BOX_ALIGN or value & (value - 1):
        got = f"{value}" if isinstance(value, int) else _kind(node)
        raise SpecError(node.location, f"'box_align' of '{name}' must be a power of two from 1 "
                        f"to {_MAX_BOX_ALIGN} (bytes; 64 is a cache line), not {got}")
    return value


def _type(name: str, name_loc: SourceLocation, node: Node,
          policies: dict[str, Policy], type_names: set[str]) -> TypeDef:
    naming.check_identifier(name, name_loc, "type name")
    body = _mapping(node, f"type '{name}'", _TYPE_KEYS)
    typedef = TypeDef(name, name_loc,
                      policies=_type_policies(name, body, policies, name_loc))
    typedef.weak = _flag(body, "weak", name)
    typedef.region = _flag(body, "region", name)
    typedef.store = _flag(body, "store", name)
    typedef.snapshot = _flag(body, "snapshot", name, default=True)
    _check_snapshot(name, body, typedef)
    typedef.box_align = _box_align(body, name)
    ctype, fields = _get(body, "ctype"), _get(body, "fields")
    hooks = [k for k in ("copy", "clone", "drop") if k in body.entries]
    forms = [k for k in ("ctype", "fields", "variants") if k in body.entries]
    choice = ("'ctype' (an existing C type), 'fields' (a struct pmgen defines) or 'variants' "
              "(a sum type pmgen defines)")
    if not forms:
        raise SpecError(name_loc, f"type '{name}' has none of 'ctype', 'fields' and "
                        f"'variants'; give one: {choice}")
    if len(forms) > 1:
        first, second = sorted(forms, key=lambda k: (
            _key_location(body, k).line, _key_location(body, k).column))[:2]
        raise SpecError(_key_location(body, second), f"type '{name}' has both '{first}' and "
                        f"'{second}'; give one: {choice}",
                        [(_key_location(body, first), f"'{first}' is given here")])
    variants = _get(body, "variants")
    if variants is not None:
        if hooks:
            raise SpecError(_key_location(body, hooks[0]), f"'{hooks[0]}' applies only to "
                            "'ctype' types; pmgen generates clone and drop for sum types")
        typedef.variants = _variants(name, variants, type_names, policies)
        return typedef
    if fields is not None:
        if hooks:
            raise SpecError(_key_location(body, hooks[0]), f"'{hooks[0]}' applies only to "
                            f"'ctype' types; pmgen generates clone and drop for 'fields' types")
        field_map = _mapping(fields, f"'fields' of '{name}'",
                             tuple(fields.entries) if isinstance(fields, Mapping) else ())
        if not field_map.entries:
            raise SpecError(fields.location, f"type '{name}' has no fields; a 'fields' type "
                            "needs at least one")
        typedef.fields = [_field(fname, floc, fnode, name, type_names, policies)
                          for fname, (floc, fnode) in field_map.entries.items()]
        return typedef
    assert ctype is not None  # neither-nor was refused above
    typedef.c_type = ctext.c_type(_string(ctype, f"'ctype' of '{name}'"), ctype.location,
                                  f"'ctype' of '{name}'")
    copy = _get(body, "copy")
    if copy is not None:
        if _string(copy, f"'copy' of '{name}'") != "trivial":
            raise SpecError(copy.location, f"'copy' of '{name}' must be 'trivial' (bitwise copy"
                            " is a correct clone); for anything else give a 'clone' hook")
        extra = [k for k in hooks if k != "copy"]
        if extra:
            raise SpecError(_key_location(body, extra[0]), f"type '{name}' is 'copy: trivial' "
                            f"and so takes no '{extra[0]}' hook")
        typedef.copy_trivial = True
        return typedef
    if "clone" not in body.entries:
        raise SpecError(name_loc, f"type '{name}' has a 'ctype' but neither 'copy: trivial' "
                        "nor a 'clone' hook, so pmgen cannot copy it on write; add one")
    for hook in ("clone", "drop"):
        hook_node = _get(body, hook)
        if hook_node is not None:
            hook_name = _string(hook_node, f"'{hook}' of '{name}'")
            naming.check_free_name(hook_name, hook_node.location, f"{hook} hook",
                                   f" of type '{name}'")
            if hook_name in naming.GENERATED_LOCALS:
                raise SpecError(hook_node.location, f"{hook} hook '{hook_name}' of type "
                                f"'{name}' is also a parameter name in the generated "
                                "functions, which would hide the hook; choose another name")
            setattr(typedef, f"{hook}_hook", hook_name)
            typedef.hook_locations[hook] = hook_node.location
    return typedef


def _instances(types: dict[str, TypeDef], policies: dict[str, Policy],
               namer: naming.Namer) -> list[Instance]:
    """Every (type, policy) pair asked for, plus those managed fields need."""
    instances: dict[tuple[str, str], Instance] = {}
    pending: list[Instance] = []
    for typedef in types.values():
        for policy, loc in typedef.policies:
            inst = Instance(typedef, policy, loc)
            instances[inst.key] = inst
            pending.append(inst)
    while pending:
        if len(instances) > MAX_INSTANCES:
            raise SpecError(pending[0].location, f"the spec asks for more than "
                            f"{MAX_INSTANCES:,} instances (type x policy pairs); split it "
                            "into several modules")
        inst = pending.pop(0)
        for spec_field in inst.type.fields:
            inst.fields.append(_resolve_field(inst, spec_field, types, policies,
                                              instances, pending, namer))
        for spec_variant in inst.type.variants:
            variant = InstanceVariant(spec_variant.name, spec_variant.location)
            for spec_field in spec_variant.fields:
                variant.fields.append(_resolve_field(inst, spec_field, types, policies,
                                                     instances, pending, namer))
            _check_parameters(inst, spec_variant, variant, namer)
            inst.variants.append(variant)
            inst.fields.extend(variant.fields)
    _link_conversions(list(instances.values()))
    return list(instances.values())


_C_IDENTIFIER_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_parameters(inst: Instance, spec_variant: Variant, variant: InstanceVariant,
                      namer: naming.Namer) -> None:
    """A variant's fields are its constructor's parameters: no name may hide a type they use."""
    handle = namer.handle(inst.type.name, inst.policy.name)
    used = {handle}
    for f in variant.fields:
        used.update(_C_IDENTIFIER_TOKEN.findall(f.c_type))
    for spec_field in spec_variant.fields:
        if spec_field.name in used:
            raise SpecError(spec_field.location, f"field name '{spec_field.name}' of variant "
                            f"'{spec_variant.name}' of '{inst.type.name}' is also a C name the "
                            "parameters of its constructor use (a field's type, or the handle "
                            "type), which the parameter would hide; choose another name")


def _link_conversions(instances: list[Instance]) -> None:
    """Each instance converts to the same type under every other policy it has."""
    by_type: dict[str, list[Instance]] = {}
    for inst in instances:
        by_type.setdefault(inst.type.name, []).append(inst)
    total = 0
    for name, family in by_type.items():
        total += len(family) * (len(family) - 1)
        if total > MAX_CONVERSIONS:
            raise SpecError(family[0].type.location, f"type '{name}' under {len(family)} "
                            f"policies takes the spec past {MAX_CONVERSIONS:,} conversion "
                            "functions (Managed_N_P_to_Q, one per ordered pair of a type's "
                            "policies); split it into several modules")
    blocked = _unconvertible(instances)
    for inst in instances:
        if inst.type.name not in blocked:
            inst.conversions = [other for other in by_type[inst.type.name] if other is not inst]


def _unconvertible(instances: list[Instance]) -> set[str]:
    """Types whose conversion would reach a weak field that follows the policy, or a sum type.

    A weak reference is not an owner: the box it points at is not the caller's to
    convert, and under the other policy it would be another type. The runtime does not
    convert sum types (their boxes differ in size per variant). Such types (and those
    reaching one through fields that follow the policy) get no _to_Q.
    """
    types = {inst.type.name: inst.type for inst in instances}
    blocked = {name for name, t in types.items()
               if t.is_sum or any(f.weak and f.policy is None for f in t.all_fields)}
    changed = True
    while changed:
        changed = False
        for name, t in types.items():
            if name not in blocked and any(f.managed in blocked and not f.weak
                                           and f.policy is None for f in t.all_fields):
                blocked.add(name)
                changed = True
    return blocked


def _resolve_field(inst: Instance, spec_field: Field, types: dict[str, TypeDef],
                   policies: dict[str, Policy], instances: dict[tuple[str, str], Instance],
                   pending: list[Instance], namer: naming.Namer) -> InstanceField:
    if spec_field.managed is None:
        assert spec_field.c_type is not None  # a plain field always has its C type
        return InstanceField(spec_field.name, spec_field.c_type, None)
    target_type = types.get(spec_field.managed)
    if target_type is None:
        raise SpecError(spec_field.location, f"field '{spec_field.name}' of "
                        f"'{inst.type.name}' is managed type '{spec_field.managed}', which the "
                        "spec does not define")
    policy_name = spec_field.policy or inst.policy.name
    policy = policies.get(policy_name)
    if policy is None:
        raise SpecError(spec_field.location, f"unknown policy '{policy_name}' for field "
                        f"'{spec_field.name}'; known policies: " + ", ".join(policies))
    if inst.policy.threadsafe and not policy.threadsafe:
        name_of = namer.weak if spec_field.weak else namer.handle
        handle = name_of(target_type.name, policy.name)
        raise SpecError(spec_field.location, f"field '{spec_field.name}' of "
                        f"'{inst.type.name}' is a {handle}, which is not thread-safe, but "
                        f"'{inst.type.name}' is instantiated "
                        f"under thread-safe policy '{inst.policy.name}'; give the field a "
                        "thread-safe policy (counter: atomic)",
                        [(inst.location, f"'{inst.type.name}' gets policy "
                          f"'{inst.policy.name}' here")])
    if spec_field.weak and not target_type.weak:
        raise SpecError(spec_field.managed_location or spec_field.location,
                        f"field '{spec_field.name}' of '{inst.type.name}' is a weak reference "
                        f"to '{target_type.name}', which has no weak references; add "
                        f"'weak: true' to type '{target_type.name}'",
                        [(target_type.location, f"'{target_type.name}' is defined here")])
    key = (target_type.name, policy.name)
    target = instances.get(key)
    if target is None:
        target = Instance(target_type, policy, spec_field.location,
                          required_by=spec_field.location)
        instances[key] = target
        pending.append(target)
    if spec_field.weak:
        return InstanceField(spec_field.name, namer.weak(*key), target, weak=True)
    return InstanceField(spec_field.name, namer.handle(*key), target)


def _check_names(module: str, module_loc: SourceLocation, instances: list[Instance],
                 namer: naming.Namer) -> None:
    """Every file-scope name the output will emit (the registry's) is claimed once."""
    table = naming.NameTable()
    for claim in registry.claims(module, module_loc, instances, namer):
        table.claim(claim.name, claim.location, claim.owner, claim.verb)
        if claim.name in C_LIBRARY_NAMES or claim.name.startswith(naming.RUNTIME_PREFIXES):
            whose = ("the perceus-mem runtime's (pm_, PM_)"
                     if claim.name.startswith(naming.RUNTIME_PREFIXES)
                     else "already a name of the C library headers the output includes")
            raise SpecError(claim.location, f"{claim.owner} {claim.verb} the C name "
                            f"'{claim.name}', which is {whose}; rename it")


def build(root: Node, spec_file: str) -> Module:
    """Validate a loaded spec and return its model; raises SpecError."""
    top = _mapping(root, "the spec", _TOP_KEYS)
    _version(top)
    module, module_loc = _module_name(top)
    namer = _namer(top)
    includes = []
    includes_node = _get(top, "includes")
    if includes_node is not None:
        for text, loc in _string_list(includes_node, "'includes'"):
            includes.append(ctext.include(text, loc))
    policies = _policies(top)
    types_node = _get(top, "types")
    if types_node is None:
        raise SpecError(top.location, "missing required key 'types'")
    types_map = _mapping(types_node, "'types'", tuple(types_node.entries)
                         if isinstance(types_node, Mapping) else ())
    if not types_map.entries:
        raise SpecError(types_map.location, "'types' is empty; a spec defines at least one type")
    type_names = set(types_map.entries)
    types = {name: _type(name, loc, node, policies, type_names)
             for name, (loc, node) in types_map.entries.items()}
    instances = _instances(types, policies, namer)
    _check_names(module, module_loc, instances, namer)
    return Module(module, module_loc, spec_file, includes, policies, types, instances, namer)
