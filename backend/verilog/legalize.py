"""Legalisation before Verilog printing: names, widths, module/instance consistency.

Like CIRCT's PrepareForEmission/LegalizeNames, this runs over `hw`/`comb`/`seq` IR and decides
everything the printer would otherwise have to guess:

- every SSA value gets a unique, legal SystemVerilog identifier (from its name hint or port
  name; keywords and clashes get a `_N` suffix), instances get unique names in the same scope;
- every value has a type with a Verilog form: a signless integer of width >= 1, a `!hw.array`
  of those, or `!seq.clock` (one bit);
- ports of modules must already be legal identifiers (they are the interface: renaming them
  would silently break the instantiating code), and so must module names;
- instance parameters (the `parameters` dictionary attribute of `hw.instance`, since xDSL's
  instance syntax has no parameter list) must be declared by the instantiated
  `hw.module.extern` and match the declared type: an integer for an integer parameter, a string
  for a parameter declared `none` (CIRCT's type of string parameters, e.g. a `$readmemh` image
  file name); strings must be printable as a plain SystemVerilog string literal.

Failures are `OpError`s naming the op (`ir/diagnostics.py: error_at`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xdsl.dialects import hw, seq
from xdsl.dialects.builtin import (
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    NoneType,
    Signedness,
    StringAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue

from accllm.ir.diagnostics import error_at

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters a string parameter may hold: printable ASCII without quote or backslash, so the
# printed literal needs no escapes (file names, modes).
_PLAIN_STRING = re.compile(r"^[ !#-\[\]-~]*$")

# IEEE 1800-2017 Annex B keywords that a name hint could plausibly spell.
SV_KEYWORDS = frozenset(
    """alias always always_comb always_ff always_latch and assert assign assume automatic before
    begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle checker
    class clocking cmos config const constraint context continue cover covergroup coverpoint cross
    deassign default defparam design disable dist do edge else end endcase endchecker endclass
    endclocking endconfig endfunction endgenerate endgroup endinterface endmodule endpackage
    endprimitive endprogram endproperty endspecify endsequence endtable endtask enum event
    eventually expect export extends extern final first_match for force foreach forever fork
    forkjoin function generate genvar global highz0 highz1 if iff ifnone ignore_bins illegal_bins
    implements implies import incdir include initial inout input inside instance int integer
    interconnect interface intersect join join_any join_none large let liblist library local
    localparam logic longint macromodule matches medium modport module nand negedge nettype new
    nexttime nmos nor noshowcancelled not notif0 notif1 null or output package packed parameter
    pmos posedge primitive priority program property protected pull0 pull1 pulldown pullup
    pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase randsequence rcmos real
    realtime ref reg reject_on release repeat restrict return rnmos rpmos rtran rtranif0 rtranif1
    s_always s_eventually s_nexttime s_until s_until_with scalared sequence shortint shortreal
    showcancelled signed small soft solve specify specparam static string strong strong0 strong1
    struct super supply0 supply1 sync_accept_on sync_reject_on table tagged task this throughout
    time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1 triand trior trireg type
    typedef union unique unique0 unsigned until until_with untyped use uwire var vectored
    virtual void wait wait_order wand weak weak0 weak1 while wildcard wire with within wor xnor
    xor""".split()
)

UNUSED_SINK = "_unused_ok"  # Verilator's default --unused-regexp is "*unused*"


def is_legal_identifier(name: str) -> bool:
    return bool(_IDENT.match(name)) and name not in SV_KEYWORDS


def _sanitize(hint: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", hint)
    if not name or name[0].isdigit():
        name = "_" + name
    return name


@dataclass
class Namespace:
    """Names used in one module scope (signals and instances share it, as in Verilog)."""

    used: set[str] = field(default_factory=lambda: {UNUSED_SINK})

    def reserve(self, name: str) -> None:
        self.used.add(name)

    def fresh(self, hint: str) -> str:
        base = _sanitize(hint)
        name, n = base, 0
        while name in self.used or name in SV_KEYWORDS:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


@dataclass
class ModuleNames:
    """The legal names of one hw.module's values and instances."""

    values: dict[SSAValue, str]
    instances: dict[Operation, str]
    input_ports: list[str]
    output_ports: list[str]


def bit_width(t: Attribute) -> int | None:
    """Total bits of a type with a Verilog form, None if it has none."""
    if isinstance(t, seq.ClockType):
        return 1
    if isinstance(t, IntegerType):
        if t.signedness.data != Signedness.SIGNLESS or t.width.data < 1:
            return None
        return t.width.data
    if isinstance(t, hw.ArrayType):
        inner = bit_width(t.get_element_type())
        if inner is None or isinstance(t.get_element_type(), hw.ArrayType) or len(t) < 1:
            return None  # one level of packed array is what the printer supports
        return inner * len(t)
    return None


def _check_type(op: Operation, t: Attribute, what: str) -> None:
    if bit_width(t) is None:
        raise error_at(
            op,
            f"{what} has type {t} with no Verilog form (expected a signless integer of width "
            ">= 1, a one-level !hw.array of them, or !seq.clock)",
        )


def _ports(op: hw.HWModuleOp | hw.HWModuleExternOp) -> tuple[list[str], list[str]]:
    ins, outs = [], []
    for port in op.module_type.ports.data:
        name = port.port_name.data
        if not is_legal_identifier(name):
            raise error_at(op, f"port name '{name}' is not a legal SystemVerilog identifier")
        _check_type(op, port.type, f"port '{name}'")
        (ins if port.dir.data.is_input_like() else outs).append(name)
    if len(set(ins + outs)) != len(ins + outs):
        raise error_at(op, "two ports share a name")
    return ins, outs


def _check_instance(inst: hw.InstanceOp, externs: dict[str, hw.HWModuleExternOp]) -> None:
    target = inst.module_name.root_reference.data
    params = inst.attributes.get("parameters")
    declared: dict[str, Attribute] = {}
    if target in externs and externs[target].parameters is not None:
        declared = {p.port_name.data: p.type for p in externs[target].parameters.data}
    if params is None:
        return
    if not isinstance(params, DictionaryAttr):
        raise error_at(inst, "'parameters' must be a dictionary of integer or string values")
    for name, value in params.data.items():
        if name not in declared:
            raise error_at(
                inst,
                f"parameter '{name}' is not declared by @{target} "
                f"(declared: {sorted(declared) or 'none'})",
            )
        if isinstance(declared[name], NoneType):
            if not isinstance(value, StringAttr):
                raise error_at(
                    inst, f"parameter '{name}' is declared as a string (none), got {value}"
                )
            if not _PLAIN_STRING.match(value.data):
                raise error_at(
                    inst,
                    f"string parameter '{name}' = {value.data!r} holds a quote, backslash or "
                    "non-printable character",
                )
        elif not isinstance(value, IntegerAttr):
            raise error_at(inst, f"parameter '{name}' must be an integer, got {value}")


def legalize(module: ModuleOp) -> dict[hw.HWModuleOp, ModuleNames]:
    """Check the netlist and name everything; returns the names per printed module."""
    externs: dict[str, hw.HWModuleExternOp] = {}
    modules: list[hw.HWModuleOp] = []
    for op in module.ops:
        if isinstance(op, hw.HWModuleExternOp):
            _ports(op)
            externs[op.sym_name.data] = op
        elif isinstance(op, hw.HWModuleOp):
            modules.append(op)
        else:
            raise error_at(
                op,
                f"'{op.name}' cannot appear at the top level of a netlist for Verilog "
                "(expected hw.module or hw.module.extern)",
            )
        if not is_legal_identifier(op.sym_name.data):
            raise error_at(op, f"module name '{op.sym_name.data}' is not a legal identifier")
    if not modules:
        raise error_at(module, "no hw.module to print")
    out: dict[hw.HWModuleOp, ModuleNames] = {}
    for mod in modules:
        if mod.parameters is not None and len(mod.parameters.data):
            raise error_at(
                mod,
                "parameterised hw.module cannot be printed (xDSL's hw.param.decl has no "
                "default value); instantiate concrete modules instead",
            )
        ins, outs = _ports(mod)
        ns = Namespace()
        for name in ins + outs:
            ns.reserve(name)
        values: dict[SSAValue, str] = dict(zip(mod.body.block.args, ins, strict=True))
        instances: dict[Operation, str] = {}
        for op in mod.body.block.ops:
            if isinstance(op, hw.InstanceOp):
                _check_instance(op, externs)
                instances[op] = ns.fresh(op.instance_name.data)
            for i, res in enumerate(op.results):
                _check_type(op, res.type, f"result #{i}")
                hint = res.name_hint
                if hint is None and isinstance(op, hw.InstanceOp):
                    hint = f"{op.instance_name.data}_{op.result_names.data[i].data}"
                values[res] = ns.fresh(hint or "_v")
        out[mod] = ModuleNames(values, instances, ins, outs)
    return out
