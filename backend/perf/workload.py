"""The work of one forward step, read off the IR, independent of the token count.

A `Workload` is the ordered list of engine steps (`Step`) of one token through the model, each
bound to an engine unit, with its data dependencies.  It is read from either level:

* the hardware level (`accel.schedule`): the instructions as lowered, with the schedule's
  barriers as the ordering (`from_schedule`);
* the model or compressed level (smla/lattn): one step per op, in op order, each after the
  previous one (the emitted schedule serialises every command: the units share the activation
  buffer's port), with the AccLLM compression applied by assumption where the IR is still float
  (`from_model`; a config-only import has float weights and no data to compress).

Token counts are not part of a step: the estimator evaluates the same workload for prefill of T
tokens and for a decode step at any context length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue

from accllm.backend import fetch_program
from accllm.dialects import accel, lattn, smla
from accllm.dialects.quant_types import QTensorType, QWeightType


class WorkloadError(ValueError):
    """The IR holds an op the estimator has no cost for (the message names it)."""


@dataclass(frozen=True)
class Step:
    """One engine step for one token.

    kind: "linear", "attention", "kv_append" or a vector kind (accel.VECTOR_KINDS).
    unit: the accel.UNITS name it runs on.
    n, k, group, precision: a linear's shape (rows, inputs), W2 group and "w2" | "int8";
        bias: a W2 linear whose stream carries its Q15.16 bias (tiling.STREAM_BIAS_ENTRIES).
    heads, kv_heads, head_dim, sink, window: attention / KV append geometry.
    length: elements per token of a vector step; in_bytes/out_bytes: activation bytes per token
        it reads / writes (for spilling when activations are not kept on chip).
    deps: indices of earlier steps whose results it needs; barrier: wait for every earlier
        step on these units first (hardware level).
    rows_per_channel, channels: a lowered linear's row split and the HBM channels of its
        regions (0 / empty at the model level: the lowering's rule, `tiling.split_rows`).
    fused: a model-level append that the attention reading the cache performs (lower-to-accel
        fuses lattn.append into the attention: stream_attention_unit appends and attends in one
        command): no command of its own.  A lowered accel.kv_append is an append-only command.
    """

    kind: str
    unit: str
    n: int = 0
    k: int = 0
    group: int = 0
    precision: str = "w2"
    bias: bool = False
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    sink: int = 0
    window: int = 0
    length: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    deps: tuple[int, ...] = ()
    barrier: tuple[str, ...] = ()
    rows_per_channel: int = 0
    channels: tuple[int, ...] = ()
    fused: bool = False


@dataclass
class Workload:
    """Steps of one token through the model plus what the tile sizing needs."""

    name: str
    steps: list[Step] = field(default_factory=list)
    tokens: int = 1  # tokens the IR itself runs (the schedule's / import's sequence length)
    live_bytes_per_token: int = 0  # peak on-chip activation bytes per token
    assumed: dict[str, object] = field(default_factory=dict)  # compression assumed for float IR

    def linears(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "linear"]

    def attentions(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "attention"]


def _int(op: Operation, name: str) -> int:
    attr = op.properties.get(name) or op.attributes.get(name)
    if not isinstance(attr, IntegerAttr):
        raise WorkloadError(f"'{op.name}' has no integer '{name}'")
    return attr.value.data


def _shape(v: SSAValue) -> tuple[int, ...]:
    t = v.type
    if isinstance(t, (QTensorType, QWeightType)):
        return tuple(t.get_shape())
    if isinstance(t, TensorType):
        return tuple(t.get_shape())
    return ()


def _tokens(v: SSAValue) -> int:
    s = _shape(v)
    return math.prod(s[:-1]) if len(s) >= 2 else 1


def _elem_bytes(v: SSAValue) -> int:
    """On-chip bytes per element: A8 per-token values are 1 byte, everything else is the int32
    residual format (float IR is costed as what the compression makes of it)."""
    t = v.type
    if isinstance(t, QTensorType):
        return -(-t.bits // 8)
    return 4


def _row_bytes(v: SSAValue) -> int:
    s = _shape(v)
    return (s[-1] if s else 1) * _elem_bytes(v)


# --------------------------------------------------------------------------------------------
# Hardware level
# --------------------------------------------------------------------------------------------


def from_schedule(schedule: accel.ScheduleOp) -> Workload:
    """The steps of an accel.schedule, per token, in program order (barriers kept)."""
    tokens = schedule.tokens.value.data
    wl = Workload(schedule.sym_name.data, tokens=tokens)
    module = schedule.parent_op()
    buffers = [o for o in module.ops if isinstance(o, accel.BufferOp)] if module else []
    regions = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    engine = next((o for o in module.ops if isinstance(o, accel.EngineOp)), None)
    buf_bytes = {o.sym_name.data: o.bytes.value.data for o in buffers}
    pending: tuple[str, ...] = ()
    inv_units = {v: k for k, v in accel.UNITS.items()}
    for op in schedule.body.block.ops:
        if isinstance(op, accel.BarrierOp):
            pending = tuple(sorted(set(pending) | {inv_units[u] for u in op.unit_set()}))
            continue

        def b(ref) -> int:
            return buf_bytes.get(ref.root_reference.data, 0) // max(1, tokens)

        if isinstance(op, accel.LinearOp):
            step = Step(
                "linear",
                "mac",
                n=_int(op, "n"),
                k=_int(op, "k"),
                group=_int(op, "group"),
                precision=op.precision.data,
                bias=op.bias is not None,
                in_bytes=b(op.input),
                out_bytes=b(op.output),
                rows_per_channel=_int(op, "rows_per_channel"),
                # the channels of its fetch-program entries (accel-to-hw's fetch ROMs)
                channels=tuple(sorted(fetch_program.instruction_reads(op, engine, regions))),
            )
        elif isinstance(op, accel.AttentionOp):
            step = Step(
                "attention",
                "attn",
                heads=_int(op, "heads"),
                kv_heads=_int(op, "kv_heads"),
                head_dim=_int(op, "head_dim"),
                sink=_int(op, "sink"),
                window=_int(op, "window"),
                in_bytes=b(op.q),
                out_bytes=b(op.output),
            )
        elif isinstance(op, accel.KVAppendOp):
            att = next(
                (
                    a
                    for a in schedule.body.block.ops
                    if isinstance(a, accel.AttentionOp) and a.kv == op.kv
                ),
                None,
            )
            if att is None:
                raise WorkloadError(f"accel.kv_append into {op.kv}: no accel.attention reads it")
            step = Step(
                "kv_append",
                "kv",
                kv_heads=_int(att, "kv_heads"),
                head_dim=_int(att, "head_dim"),
                sink=_int(att, "sink"),
                window=_int(att, "window"),
                in_bytes=b(op.k) + b(op.v),
            )
        elif isinstance(op, accel.VectorOp):
            step = Step(
                op.kind.data,
                accel.VECTOR_UNIT[op.kind.data],
                length=_int(op, "length"),
                in_bytes=sum(b(r) for r in op.inputs.data),
                out_bytes=b(op.output),
            )
        else:
            raise WorkloadError(f"'{op.name}' has no cost in the performance model")
        wl.steps.append(Step(**{**step.__dict__, "barrier": pending}))
        pending = ()
    peak = max((o.offset.value.data + o.bytes.value.data for o in buffers), default=0)
    wl.live_bytes_per_token = -(-peak // tokens)
    return wl


# --------------------------------------------------------------------------------------------
# Model / compressed level
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumed:
    """Compression assumed for float IR (the accllm-compress defaults)."""

    group: int = 128
    sink: int = 4
    window: int = 1020


class _ModelReader:
    def __init__(self, fn: func.FuncOp, assumed: Assumed):
        self.fn, self.a = fn, assumed
        self.wl = Workload(fn.sym_name.data)
        self.producer: dict[SSAValue, int] = {}
        self.requant: dict[SSAValue, int] = {}  # float linear input -> assumed A8 requantize

    def _serial(self) -> set[int]:
        """The previous step: the emitted schedule runs one command at a time (every unit
        shares the activation buffer's port, so accel-insert-barriers serialises them)."""
        return {len(self.wl.steps) - 1} if self.wl.steps else set()

    def add(self, step: Step, op: Operation, inputs: list[SSAValue]) -> int:
        deps = {self.producer[v] for v in inputs if v in self.producer} | self._serial()
        deps = tuple(sorted(deps))
        self.wl.steps.append(Step(**{**step.__dict__, "deps": deps}))
        idx = len(self.wl.steps) - 1
        for r in op.results:
            self.producer[r] = idx
        return idx

    def a8_input(self, x: SSAValue) -> None:
        """Float IR: the quantize pass puts one A8 requantize on each distinct linear input."""
        if isinstance(x.type, QTensorType) or x in self.requant:
            return
        n = _shape(x)[-1]
        step = Step("requantize", "vec", length=n, in_bytes=4 * n, out_bytes=n + 1)
        deps = ({self.producer[x]} if x in self.producer else set()) | self._serial()
        self.wl.steps.append(Step(**{**step.__dict__, "deps": tuple(sorted(deps))}))
        self.requant[x] = len(self.wl.steps) - 1

    def linear(self, op: Operation, lm_head: bool) -> None:
        x, w = op.operands[0], op.operands[1]
        n, k = _shape(w)
        wt = w.type
        if isinstance(wt, QWeightType):
            precision = "w2" if wt.is_w2() else "int8"
            group = wt.group_size() if wt.is_w2() else k
        else:
            precision = "int8" if lm_head else "w2"
            group = k if lm_head else self.a.group
            self.wl.assumed.setdefault("group", self.a.group)
        self.a8_input(x)
        step = Step(
            "linear",
            "mac",
            n=n,
            k=k,
            group=group,
            precision=precision,
            bias=len(op.operands) > 2 and precision == "w2",
            in_bytes=k + 1,
            out_bytes=4 * n,
        )
        idx = self.add(step, op, [x])
        if x in self.requant:
            self.wl.steps[idx] = Step(
                **{
                    **self.wl.steps[idx].__dict__,
                    "deps": (*self.wl.steps[idx].deps, self.requant[x]),
                }
            )

    def attention(
        self,
        op: Operation,
        q: SSAValue,
        heads: int,
        kv_heads: int,
        sink: int | None,
        window: int | None,
        inputs: list[SSAValue],
    ) -> None:
        hd = _shape(q)[-1] // heads
        if sink is None:
            sink, window = self.a.sink, self.a.window
            self.wl.assumed.update(sink=sink, window=window)
        geo = dict(kv_heads=kv_heads, head_dim=hd, sink=sink, window=window)
        # The prefill op appends its own K/V: stream_attention_unit does both in one command.
        self.add(
            Step(
                "attention",
                "attn",
                heads=heads,
                in_bytes=_row_bytes(q),
                out_bytes=_row_bytes(op.results[0]),
                **geo,
            ),
            op,
            inputs,
        )

    def vector(self, op: Operation, kind: str, inputs: list[SSAValue]) -> None:
        y = op.results[0]
        self.add(
            Step(
                kind,
                accel.VECTOR_UNIT[kind],
                length=_shape(y)[-1],
                in_bytes=sum(_row_bytes(v) for v in inputs),
                out_bytes=_row_bytes(y),
            ),
            op,
            inputs,
        )

    def read(self) -> Workload:  # noqa: C901 - one dispatch over the op set
        for op in self.fn.body.block.ops:
            match op:
                case smla.WeightOp() | func.ReturnOp() | lattn.EmptyOp() | lattn.AppendOp():
                    if isinstance(op, lattn.AppendOp):  # explicit append (compressed IR)
                        c = op.operands[0].type
                        uses = [u.operation for r in op.results for u in r.uses]
                        self.add(
                            Step(
                                "kv_append",
                                "kv",
                                kv_heads=c.heads.data,
                                head_dim=c.head_dim.data,
                                sink=c.sink.data,
                                window=c.window.data,
                                # the attention that reads the cache appends it (one command)
                                fused=any(
                                    isinstance(u, lattn.DecodeOp | lattn.PrefillOp) for u in uses
                                ),
                            ),
                            op,
                            list(op.operands[1:]),
                        )
                case smla.LinearOp():
                    self.linear(op, lm_head=False)
                case smla.LMHeadOp():
                    self.linear(op, lm_head=True)
                case smla.EmbeddingOp():
                    self.vector(op, "embedding", [])
                case smla.RMSNormOp():
                    self.vector(op, "rmsnorm", [op.operands[0]])
                case smla.RequantizeOp():
                    self.vector(op, "requantize", [op.operands[0]])
                case smla.RoPEOp():
                    self.vector(op, "rope", [op.operands[0]])
                case smla.SiLUOp():
                    self.vector(op, "silu", [op.operands[0]])
                case smla.SwiGLUOp() | smla.MulOp() | smla.AddOp():
                    kind = {smla.SwiGLUOp: "swiglu", smla.MulOp: "mul", smla.AddOp: "add"}
                    self.vector(op, kind[type(op)], list(op.operands))
                case lattn.PrefillOp():
                    q = op.operands[0]
                    s = op.sink.value.data if op.sink is not None else None
                    w = op.window.value.data if op.window is not None else None
                    self.attention(
                        op,
                        q,
                        _int(op, "num_heads"),
                        _int(op, "num_kv_heads"),
                        s,
                        w,
                        list(op.operands),
                    )
                case lattn.DecodeOp():
                    c = op.operands[1].type
                    self.attention(
                        op,
                        op.operands[0],
                        _int(op, "num_heads"),
                        c.heads.data,
                        c.sink.data,
                        c.window.data,
                        list(op.operands),
                    )
                case smla.QuantizeOp() | smla.DequantizeOp():
                    # Format casts between levels (folded by the compression pipeline): the
                    # value passes through, no engine work.
                    src = op.operands[0]
                    if src in self.producer:
                        self.producer[op.results[0]] = self.producer[src]
                case _ if op.dialect_name() == "arith":
                    pass  # position constants: host-side
                case _:
                    raise WorkloadError(f"'{op.name}' has no cost in the performance model")
        self.wl.tokens = max(
            (_tokens(r) for o in self.fn.body.walk() for r in o.results if _shape(r)), default=1
        )
        self.wl.live_bytes_per_token = self._peak_live()
        return self.wl

    def _peak_live(self) -> int:
        """Peak bytes per token of simultaneously live activations (SSA liveness)."""
        ops = list(self.fn.body.block.ops)
        last = {}
        for i, op in enumerate(ops):
            for v in op.operands:
                last[v] = i
        live: dict[SSAValue, int] = {}
        peak = 0
        for i, op in enumerate(ops):
            if isinstance(op, (smla.WeightOp, lattn.EmptyOp)) or op.dialect_name() == "arith":
                continue
            for r in op.results:
                if isinstance(r.type, (TensorType, QTensorType)) and len(_shape(r)) >= 2:
                    live[r] = _row_bytes(r)
            peak = max(peak, sum(live.values()))
            for v in [v for v in live if last.get(v, -1) <= i]:
                del live[v]
        return peak


def from_model(fn: func.FuncOp, assumed: Assumed | None = None) -> Workload:
    """The steps of a model-level or compressed-level function (one token's worth)."""
    return _ModelReader(fn, assumed or Assumed()).read()


def workloads(module: ModuleOp, assumed: Assumed | None = None) -> list[Workload]:
    """Every schedule (hardware level) or function (model level) of the module."""
    schedules = [o for o in module.ops if isinstance(o, accel.ScheduleOp)]
    if schedules:
        return [from_schedule(s) for s in schedules]
    funcs = [o for o in module.ops if isinstance(o, func.FuncOp)]
    if not funcs:
        raise WorkloadError("no accel.schedule and no func.func to estimate")
    return [from_model(f, assumed) for f in funcs]
