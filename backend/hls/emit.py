"""`accllm-translate --emit-hls`: compressed-level IR -> one self-contained Vitis HLS C++ file.

Every `func.func` becomes a top-capable function whose array arguments are AXI masters on the
HBM channels named by `hls.m_axi` attributes: weights (`smla.weight`, converted to HBM formats),
KV caches (updated in place, kept in HBM across calls), integer inputs and results. Its body
declares one on-chip buffer per SSA value and calls one kernel per op (backend/hls/kernels.py,
single dispatch); `hls.dataflow` on the function adds `#pragma HLS DATAFLOW`. The file starts
with contract.h and the generated constants/tables (numerics_header.py), so it needs only the
ap_types headers. With `--hls-testbench-dir DIR` the C testbench, the weight image and the
Vitis tcl script are written beside it (backend/hls/project.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, ModuleOp, TensorType
from xdsl.ir import Operation

from accllm.backend.hls import kernels as K
from accllm.backend.hls.numerics_header import inlined_contract
from accllm.backend.hls.ports import CachePorts, Port, channel_of, weight_ports
from accllm.dialects import smla
from accllm.dialects.hls import DATAFLOW
from accllm.dialects.lattn import AppendOp, KVCacheType
from accllm.dialects.quant_types import ParamAttr, QTensorType
from accllm.ir.diagnostics import error_at


@dataclass
class TopFunction:
    """One emitted top function and what its testbench must know."""

    name: str
    inputs: list[Port] = field(default_factory=list)  # integer tensors, in argument order
    weights: list[Port] = field(default_factory=list)
    caches: list[CachePorts] = field(default_factory=list)  # in cache-argument order
    outputs: list[Port] = field(default_factory=list)
    kernels: list[K.Kernel] = field(default_factory=list)
    text: str = ""

    def ports(self) -> list[Port]:
        cache_ports = [p for c in self.caches for p in c.ports.values()]
        return [*self.inputs, *self.weights, *cache_ports, *self.outputs]

    def signature(self) -> str:
        pad = " " * (len(self.name) + 6)
        return f"void {self.name}(" + f",\n{pad}".join(p.decl() for p in self.ports()) + ")"


@dataclass
class Design:
    functions: list[TopFunction]
    tables: dict[str, str]
    source: str


def _sanitize(key: str) -> str:
    return "w_" + re.sub(r"\W", "_", key)


def _arg_attrs(fn: func.FuncOp, i: int, results: bool = False):
    attrs = fn.res_attrs if results else fn.arg_attrs
    return attrs.data[i].data if attrs is not None else None


def _top(fn: func.FuncOp, tables: dict[str, str], base_dir: Path, shared: dict) -> TopFunction:
    top = TopFunction(fn.sym_name.data)
    values: dict = {}
    locals_: list[str] = []
    pre: list[str] = []
    post: list[str] = []
    for i, arg in enumerate(fn.body.block.args):
        t = arg.type
        ch = channel_of(fn, _arg_attrs(fn, i), f"argument #{i}")
        if isinstance(t, TensorType) and isinstance(t.element_type, IntegerType):
            ctype = f"ap_int<{t.element_type.width.data}>"
            count = max(1, int(t.element_count()))
            port = Port(f"arg{i}", ctype, count, ch)
            top.inputs.append(port)
            values[arg] = K.Ints(port.name, count, ctype)
        elif isinstance(t, KVCacheType) and t.is_kv4():
            cp = CachePorts(f"cache{len(top.caches)}", t, ch)
            top.caches.append(cp)
            values[arg] = K.Cache(cp, t)
        elif isinstance(t, QTensorType) and not t.is_per_token():
            buf = K.fixed_of(f"arg{i}_buf", t)
            port = Port(f"arg{i}", buf.ctype, buf.rows * buf.cols, ch)
            top.inputs.append(port)
            values[arg] = buf
            locals_.append(buf.decl() + ";")
            pre += K.loop(
                f"L_in{i}",
                "x",
                port.count,
                [f"{buf.name}[x / {buf.cols}][x % {buf.cols}] = {port.name}[x];"],
            )
        else:
            raise error_at(fn, f"argument #{i} of type {t} cannot be an HLS top-level port")
    ctx = K.Context(values, tables, top.name)
    for index, op in enumerate(fn.body.block.ops):
        ctx.index = index
        if isinstance(op, smla.WeightOp):
            key = op.value.key.data if isinstance(op.value, ParamAttr) else f"{top.name}_{index}"
            # One set of ports per (parameter, format): a tied embedding / LM head is one
            # parameter read in two formats, so the second gets its own ports.
            base = _sanitize(key)
            skey = (base, op.result.type)
            if skey not in shared:
                n = sum(1 for b, _ in shared if b == base)
                shared[skey] = weight_ports(op, base if n == 0 else f"{base}_r{n}", base_dir)
            ports = shared[skey]
            top.weights += [p for p in ports.values() if all(p is not q for q in top.weights)]
            values[op.result] = K.Weight(ports, op.result.type)
        elif isinstance(op, arith.ConstantOp):
            locals_.append(_constant(op, f"v{index}", values))
        elif isinstance(op, func.ReturnOp):
            post += _outputs(fn, op, top, values)
        else:
            if K.kernel.dispatch(type(op)) is K.kernel.dispatch(object):
                raise error_at(op, "is not supported by the HLS C++ backend")
            _check_in_place(op)
            res = op.results[0] if op.results else None
            buf = None
            if res is not None and isinstance(res.type, QTensorType):
                buf = K.fixed_of(f"v{index}", res.type)
                values[res] = buf
                locals_ += [
                    d + ";" for d in (buf.decls() if isinstance(buf, K.A8) else [buf.decl()])
                ]
            elif res is not None and not isinstance(res.type, KVCacheType):
                raise error_at(op, f"result type {res.type} has no HLS buffer")
            top.kernels.append(K.kernel(op, ctx, buf))
    pragmas = [p.channel_pragma() for p in top.ports()]
    pragmas.append("#pragma HLS INTERFACE mode=s_axilite port=return")
    if DATAFLOW in fn.attributes:
        pragmas.append("#pragma HLS DATAFLOW")
    body = [*pragmas, *locals_, *pre, *(k.call() for k in top.kernels), *post]
    top.text = top.signature() + " {\n" + "\n".join(K.IND + line for line in body) + "\n}\n"
    return top


def _constant(op: arith.ConstantOp, name: str, values: dict) -> str:
    """An integer tensor constant (e.g. the positions 0..T-1 of a prefill) as an on-chip
    array."""
    attr, t = op.value, op.result.type
    if not (
        isinstance(attr, DenseIntOrFPElementsAttr)
        and isinstance(t, TensorType)
        and isinstance(t.element_type, IntegerType)
    ):
        raise error_at(op, "only integer tensor constants have an HLS form")
    data = [int(v) for v in attr.get_values()]
    if len(data) == 1 and t.element_count() > 1:  # splat
        data = data * int(t.element_count())
    ctype = f"ap_int<{t.element_type.width.data}>"
    values[op.result] = K.Ints(name, len(data), ctype)
    return f"const {ctype} {name}[{len(data)}] = {{{', '.join(map(str, data))}}};"


def _check_in_place(op: Operation) -> None:
    """lattn.append updates its cache's HBM storage in place: legal only if the old cache value
    has no other use."""
    if isinstance(op, AppendOp) and sum(1 for _ in op.cache.uses) != 1:
        raise error_at(
            op,
            "the appended-to cache is used again; the HLS backend updates the "
            "KV cache in place and needs its old value to be dead",
        )


def _outputs(fn: func.FuncOp, ret: func.ReturnOp, top: TopFunction, values) -> list[str]:
    lines: list[str] = []
    for i, v in enumerate(ret.arguments):
        buf = values.get(v)
        if isinstance(buf, K.Cache):
            continue  # stored in place in its HBM arrays
        if not isinstance(buf, K.Fixed):
            raise error_at(ret, f"result #{i} must be a fixed-point qtensor or a KV cache")
        ch = channel_of(fn, _arg_attrs(fn, i, results=True), f"result #{i}")
        port = Port(f"out{i}", buf.ctype, buf.rows * buf.cols, ch, const=False)
        top.outputs.append(port)
        lines += K.loop(
            f"L_out{i}",
            "x",
            port.count,
            [f"{port.name}[x] = {buf.name}[x / {buf.cols}][x % {buf.cols}];"],
        )
    return lines


def build_design(module: ModuleOp, base_dir: Path, source: str = "") -> Design:
    """Emit every func.func of `module` as a top function (errors name the op at fault)."""
    tables: dict[str, str] = {}
    shared: dict = {}
    fns = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if not fns:
        raise error_at(module, "has no func.func to emit as an HLS top function")
    for fn in fns:  # declarations and branching bodies have no HLS top-function form
        if len(fn.body.blocks) != 1:
            raise error_at(
                fn, f"HLS emits single-block functions, this one has {len(fn.body.blocks)} blocks"
            )
    functions = [_top(fn, tables, base_dir, shared) for fn in fns]
    _check_caches_agree(fns, functions)
    return Design(functions, tables, source)


def _check_caches_agree(fns, functions: list[TopFunction]) -> None:
    """The testbench (and the host) keeps cache j of every function in one HBM storage."""
    seen: dict[int, KVCacheType] = {}
    for fn, top in zip(fns, functions, strict=True):
        for j, c in enumerate(top.caches):
            if seen.setdefault(j, c.cache) != c.cache:
                raise error_at(fn, f"KV cache argument #{j} differs from other functions' #{j}")


def render_kernel_file(design: Design) -> str:
    kernels = [k.definition() for f in design.functions for k in f.kernels]
    origin = f" from {design.source}" if design.source else ""
    parts = [
        f"// Generated by accllm-translate --emit-hls{origin}.",
        "// Vitis HLS C++: kernels per op, top functions with HBM AXI masters.",
        inlined_contract(),
        "namespace accllm {",
        "",
        *design.tables.values(),
        *kernels,
        "}  // namespace accllm",
        "",
        "using namespace accllm;",
        "",
        *(f.text for f in design.functions),
    ]
    return "\n".join(parts)


def emit(module: ModuleOp, args) -> str:
    """accllm-translate entry point (backend/translate_targets.py)."""
    source = getattr(args, "input_file", None)
    base_dir = Path(source).parent if source else Path.cwd()
    design = build_design(module, base_dir, Path(source).name if source else "")
    text = render_kernel_file(design)
    tb_dir = getattr(args, "hls_testbench_dir", None)
    if tb_dir:
        from accllm.backend.hls.project import write_project

        output = getattr(args, "output", "-")
        kernel_file = Path(output).name if output and output != "-" else "kernel.cpp"
        write_project(design, Path(tb_dir), kernel_file)
    return text
