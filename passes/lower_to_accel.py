"""lower-to-accel: compressed smla/lattn IR -> the accel hardware level.

Each `func.func` of quantized smla/lattn ops becomes one `accel.schedule` (gemm when its
activations carry more than one token = prefill, gemv for one token = decode), and the module
gets the target's `accel.engine`, the `accel.hbm_region`s of every weight, metadata, table and KV
cache, and the `accel.buffer`s of the activations:

- weights: a 2:4 W2 linear's rows are split evenly over the weight channels (`tiling.split_rows`),
  one region per channel holding that channel's stream (`tiling.stream_layout`: per pass the
  lanes' scale/zero-point entries, then their packed weight words), which the channel's
  prefetcher reads in one go; the int8 LM head likewise;
- KV caches (`lattn.empty`): one region per layer, round-robin over the KV channels;
- HBM regions start on an AXI beat (the prefetcher reads whole beats);
- activations: liveness-based first-fit allocation in the on-chip activation buffer (a buffer is
  reused once its last reader has been scheduled);
- ordering: instructions are emitted in program order without barriers; `accel-insert-barriers`
  (its own pass, so the ordering is IR you can print) adds them.

Ops without a hardware mapping (float ops, dense W2 without 2:4, biases, ...) are errors naming
the op.  Tiling arithmetic lives in `accllm.backend.tiling`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    i64,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from accllm.backend import tiling
from accllm.backend.target_desc import EngineConfig, derive_engine, load_target
from accllm.dialects import accel, lattn, smla
from accllm.dialects.quant_types import ParamAttr, QTensorType, QWeightType, SparsityAttr
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract
from accllm.numerics.words import WORD_BYTES


def _i(v: int) -> IntegerAttr:
    return IntegerAttr(v, i64)


def _ref(name: str) -> SymbolRefAttr:
    return SymbolRefAttr(name)


def _shape(v: SSAValue) -> tuple[int, ...]:
    t = v.type
    if isinstance(t, QTensorType):
        return t.get_shape()
    if isinstance(t, TensorType):
        return tuple(t.get_shape())
    return ()


def _act_bytes(v: SSAValue) -> int:
    """On-chip bytes of an activation in the buffer layout of `tiling.act_words`."""
    t = v.type
    assert isinstance(t, QTensorType)
    shape = t.get_shape()
    bits = 8 * -(-t.bits // 8)
    words = tiling.act_words(math.prod(shape[:-1]), shape[-1], bits, t.is_per_token())
    return words * WORD_BYTES


@dataclass
class _Allocator:
    """HBM bump allocation per channel and first-fit allocation of the activation buffer."""

    engine: EngineConfig
    hbm_next: dict[int, int] = field(default_factory=dict)
    live: dict[str, tuple[int, int]] = field(default_factory=dict)  # buffer -> (offset, bytes)

    def hbm_striped(self, channels: range, nbytes: int, align: int) -> int:
        """One offset, free on every channel of `channels` and aligned to an AXI beat and to
        `align` bytes, for `nbytes` on each (a layer's KV rings: one kv_addr for all pipes)."""
        step = math.lcm(self.engine.words_per_beat * WORD_BYTES, align)
        off = max(self.hbm_next.get(c, 0) for c in channels)
        off = tiling.ceil_div(off, step) * step
        for c in channels:
            self.hbm_next[c] = off + nbytes
        return off

    def buffer(self, nbytes: int, op: Operation) -> int:
        offset = 0
        for o, n in sorted(self.live.values()):
            if offset + nbytes <= o:
                break
            offset = max(offset, o + n)
        if offset + nbytes > self.engine.act_buffer_bytes:
            raise error_at(
                op,
                f"live activations need {offset + nbytes} bytes, the engine's activation buffer "
                f"holds {self.engine.act_buffer_bytes} (token tiling of long prompts is not "
                "implemented)",
            )
        return offset


@dataclass
class _Lowering:
    engine: EngineConfig
    module: ModuleOp
    resources: list[Operation] = field(default_factory=list)
    alloc: _Allocator = field(init=False)
    names: set[str] = field(default_factory=set)
    next_suffix: dict[str, int] = field(default_factory=dict)  # hint -> first suffix to try
    # The KV region of each attention layer, in order: the cache identity shared by every
    # schedule (prefill writes it, later decode steps read and extend the same bytes).
    kv_by_layer: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)
    # (parameter, n, k, group, precision) -> its stream regions, ("table", parameter, rows,
    # row words) -> its table region: shared by every schedule
    weight_regions: dict[tuple, list[str] | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.alloc = _Allocator(self.engine)

    def fresh(self, hint: str) -> str:
        name, n = hint, self.next_suffix.get(hint, 0)
        if n:
            name = f"{hint}_{n}"
        while name in self.names:
            n += 1
            name = f"{hint}_{n}"
        self.next_suffix[hint] = n + 1
        self.names.add(name)
        return name

    def region(
        self,
        hint: str,
        kind: str,
        channel: int,
        words: int,
        source: str | None,
        stripes: int = 1,
        align: int = 1,
    ) -> str:
        name = self.fresh(hint)
        nbytes = words * WORD_BYTES
        chans = range(channel, channel + stripes)
        props = {
            "sym_name": StringAttr(name),
            "kind": StringAttr(kind),
            "channel": _i(channel),
            "offset": _i(self.alloc.hbm_striped(chans, nbytes, align)),
            "bytes": _i(nbytes),
        }
        if stripes > 1:
            props["stripes"] = _i(stripes)
        if source is not None:
            props["source"] = StringAttr(source)
        self.resources.append(accel.HBMRegionOp.create(properties=props))
        return name


def _source(weight_op: Operation) -> str:
    value = weight_op.properties.get("value")
    if isinstance(value, ParamAttr):
        return f"{value.file.data}:{value.key.data}"
    return "inline"


class _FuncLowering:
    """Lowers one func.func into a schedule; state: value -> buffer, hazards per buffer."""

    def __init__(self, low: _Lowering, fn: func.FuncOp):
        self.low, self.fn = low, fn
        self.eng = low.engine
        self.buf: dict[SSAValue, str] = {}
        self.region_of: dict[SSAValue, str] = {}  # weights / tables / caches -> region
        self.weights: dict[SSAValue, Operation] = {}
        self.kv_layer = 0  # attention layers of this function lowered so far
        self.first_position: int | None = None  # set by lower(): see token_positions
        self.positions: dict[SSAValue, int] = {}  # constant RoPE positions -> first position
        self.body: list[Operation] = []
        ops = list(fn.body.block.ops)
        self.last_use: dict[SSAValue, int] = {}
        for i, op in enumerate(ops):
            for v in op.operands:
                self.last_use[v] = i
        # An appended cache's K/V rows are read by the attention that consumes the cache (it
        # performs the append): they must stay live until then.
        for i, op in enumerate(ops):
            if isinstance(op, lattn.DecodeOp) and isinstance(op.operands[1].owner, lattn.AppendOp):
                for v in op.operands[1].owner.operands[1:]:
                    self.last_use[v] = max(self.last_use.get(v, i), i)
        self.appended_kv: dict[SSAValue, tuple[SSAValue, SSAValue]] = {}  # cache -> its k, v
        self.ops = ops

    # ---- resources -------------------------------------------------------------------------

    def act(self, v: SSAValue, op: Operation) -> str:
        if v in self.buf:
            return self.buf[v]
        if not isinstance(v.type, QTensorType):
            raise error_at(op, f"activation of type {v.type} has no on-chip form (quantize first)")
        nbytes = _act_bytes(v)
        name = self.low.fresh(v.name_hint or "act")
        offset = self.low.alloc.buffer(nbytes, op)
        self.low.alloc.live[name] = (offset, nbytes)
        self.low.resources.append(
            accel.BufferOp.create(
                properties={
                    "sym_name": StringAttr(name),
                    "kind": StringAttr("act"),
                    "offset": _i(offset),
                    "bytes": _i(nbytes),
                }
            )
        )
        self.buf[v] = name
        return name

    def release_dead(self, index: int) -> None:
        for v, name in list(self.buf.items()):
            if self.last_use.get(v, -1) <= index and name in self.low.alloc.live:
                del self.low.alloc.live[name]

    def table(self, w: SSAValue, op: Operation, rows: int, row_words: int) -> str:
        if w not in self.region_of:
            # like a weight stream, one copy in HBM per parameter for every schedule
            src = _source(self.weights[w])
            key = ("table", src, rows, row_words) if src != "inline" else None
            name = self.low.weight_regions.get(key) if key else None
            if name is None:
                hint = (w.name_hint or "table") + "_tab"
                words = rows * row_words
                name = self.low.region(hint, "table", self.eng.misc_channel, words, src)
                if key:
                    self.low.weight_regions[key] = name
            self.region_of[w] = name
        return self.region_of[w]

    # ---- ordering --------------------------------------------------------------------------

    def issue(self, inst: accel.InstructionOp) -> None:
        """Append an instruction in program order; `accel-insert-barriers` orders them."""
        self.body.append(inst)

    # ---- ops -------------------------------------------------------------------------------

    def linear(
        self, op: Operation, x: SSAValue, w: SSAValue, y: SSAValue, tokens: int, bias=None
    ) -> None:
        wt = w.type
        assert isinstance(wt, QWeightType)
        n, k = wt.get_shape()
        split = tiling.split_rows(n, self.eng)
        src = _source(self.weights[w])
        hint = w.name_hint or "w"
        if wt.is_w2():
            if not isinstance(wt.sparsity, SparsityAttr):
                raise error_at(
                    op, "dense W2 weights have no HBM stream format (the contract packs 2:4 only)"
                )
            precision, group = "w2", wt.group_size()
        else:
            precision, group = "int8", k
        # A bias rides in the weights' stream (two entries after each row's exponent), so it
        # must be a named parameter the HBM image writer can read.
        bias_src = None
        if bias is not None:
            bias_op = self.weights.get(bias)
            bias_src = _source(bias_op) if bias_op is not None else "inline"
            if precision != "w2" or bias_src == "inline":
                raise error_at(
                    op,
                    "a linear bias maps onto the MAC unit for a 2:4 W2 weight with the bias as a "
                    "#smla.param (compress the model with accllm-quantize)",
                )
        layout = tiling.stream_layout(
            n, k, group, precision, split, self.eng.words_per_beat, bias is not None
        )
        words = layout.beats * layout.words_per_beat
        # Every schedule (the prefill chunk, the decode step) streams the same weights: one
        # copy in HBM per parameter (an inline weight has no name to share by).
        key = (src, bias_src, n, k, group, precision) if src != "inline" else None
        regions = self.low.weight_regions.get(key) if key else None
        if regions is None:
            regions = [
                self.low.region(f"{hint}_c{c}", "weights", c, words, src)
                for c in range(split.channels_used)
            ]
            if key:
                self.low.weight_regions[key] = regions
        xin, yout = self.act(x, op), self.act(y, op)
        props = {
            "mode": StringAttr("gemm" if tokens > 1 else "gemv"),
            "precision": StringAttr(precision),
            "weights": ArrayAttr([_ref(r) for r in regions]),
            "input": _ref(xin),
            "output": _ref(yout),
            "n": _i(n),
            "k": _i(k),
            "group": _i(group),
            "tokens": _i(tokens),
            "rows_per_channel": _i(split.rows_per_channel),
        }
        if bias_src is not None:
            props["bias"] = StringAttr(bias_src)
        in_k = _shape(x)[-1]
        if in_k != k:  # a zero-padded K (contract padded_k): the unit reads zeros past in_k
            props["input_k"] = _i(in_k)
        inst = accel.LinearOp.create(properties=props)
        self.issue(inst)

    def vector(
        self,
        op: Operation,
        kind: str,
        ins: list[SSAValue],
        table: str | None,
        position: int | None = None,
        extra: dict | None = None,
    ) -> None:
        y = op.results[0]
        shape = _shape(y)
        names = [self.act(v, op) for v in ins]
        out = self.act(y, op)
        props = {
            "kind": StringAttr(kind),
            "inputs": ArrayAttr([_ref(b) for b in names]),
            "output": _ref(out),
            "length": _i(shape[-1]),
            "tokens": _i(math.prod(shape[:-1])),
        }
        if table is not None:
            props["table"] = _ref(table)
        if position is not None:
            props["position"] = _i(position)
        props |= extra or {}
        self.issue(accel.VectorOp.create(properties=props))

    def kv_region(self, op: Operation, heads: int, head_dim: int, sink: int, window: int) -> str:
        """The region of this function's next attention layer: the layer's region from an
        earlier schedule (same cache geometry required) or a new one: the layer's Λ rings
        (`tiling.kv_ring`), KV head h's on channel h mod kv_channels, striped over the
        kv_channels channels at one offset (the attention descriptor's kv_addr)."""
        layer, self.kv_layer = self.kv_layer, self.kv_layer + 1
        geometry = (heads, head_dim, sink, window)
        if layer < len(self.low.kv_by_layer):
            name, known = self.low.kv_by_layer[layer]
            if known != geometry:
                raise error_at(
                    op,
                    f"KV cache of attention layer {layer} has (heads, head_dim, sink, window) = "
                    f"{geometry}, an earlier function used {known} for the same layer",
                )
            return name
        pipes = self.eng.kv_channels
        ring = tiling.kv_ring(head_dim, sink, window)
        nbytes = tiling.kv_rings_per_layer(heads, pipes) * ring.ring_bytes
        name = self.low.region(
            "kv", "kv", 0, nbytes // WORD_BYTES, None, pipes, tiling.KV_REGION_ALIGN
        )
        self.low.kv_by_layer.append((name, geometry))
        return name

    def cache_region(self, op: Operation, ct: lattn.KVCacheType) -> str:
        return self.kv_region(op, ct.heads.data, ct.head_dim.data, ct.sink.data, ct.window.data)

    def kv_append(self, op: Operation, kv: str, k: SSAValue, v: SSAValue) -> None:
        kb, vb = self.act(k, op), self.act(v, op)
        inst = accel.KVAppendOp.create(
            properties={
                "kv": _ref(kv),
                "k": _ref(kb),
                "v": _ref(vb),
                "tokens": _i(math.prod(_shape(k)[:-1])),
                **self.position_prop(),
            }
        )
        self.issue(inst)

    def attention(
        self,
        op: Operation,
        q: SSAValue,
        kv: str,
        geometry: tuple,
        tokens: int,
        heads: int,
        new_kv: tuple[SSAValue, SSAValue] | None = None,
    ) -> None:
        kv_heads, head_dim, sink, window = geometry
        qb = self.act(q, op)
        fused = {}
        if new_kv is not None:  # the tokens' K/V, appended by the attention itself
            fused = {"k": _ref(self.act(new_kv[0], op)), "v": _ref(self.act(new_kv[1], op))}
        out = self.act(op.results[0], op)
        inst = accel.AttentionOp.create(
            properties={
                "mode": StringAttr("gemm" if tokens > 1 else "gemv"),
                "kv": _ref(kv),
                "q": _ref(qb),
                "output": _ref(out),
                "heads": _i(heads),
                "kv_heads": _i(kv_heads),
                "head_dim": _i(head_dim),
                "sink": _i(sink),
                "window": _i(window),
                "tokens": _i(tokens),
                **self.position_prop(),
                **fused,
            }
        )
        self.issue(inst)

    def constant(self, op: arith.ConstantOp) -> None:
        """Integer constants are RoPE positions (the only constant the compressed IR holds);
        anything else, or positions that are not a contiguous run, has no hardware form."""
        value = op.value
        users = {u.operation.name for u in op.result.uses}
        start = None
        if isinstance(value, DenseIntOrFPElementsAttr) and users <= {"smla.rope"}:
            start = _arange_start(np.asarray(value.get_values()))
        if start is None:
            raise error_at(
                op,
                "only a contiguous run of RoPE positions (p0, p0+1, ...) has an accel mapping "
                "(the engine's position counter); this constant does not",
            )
        self.positions[op.result] = start

    def prefill(self, op: Operation, tokens: int, appended: dict) -> None:
        """Λ prefill: with an explicit lattn.append of the same k, v the cache is that one;
        otherwise (the compression passes' form) the layer's cache region is created here.
        The attention appends the tokens itself (`k`, `v` of accel.attention): the stream
        attention unit KV4-quantizes them, attends with each query over the cache as it was
        plus the tokens up to it, and writes them to their Λ slots afterwards (appending the
        chunk first would overwrite, once it wraps the window, slots its earlier queries see)."""
        q, k, v = op.operands
        heads = _int_prop(op, "num_heads")
        cache = appended.get((k, v))
        if cache is not None:
            ct = cache.type
            geometry = (ct.heads.data, ct.head_dim.data, ct.sink.data, ct.window.data)
            kv = self.region_of[cache]
            self.take_append(op, kv)
            self.attention(op, q, kv, geometry, tokens, heads, (k, v))
            return
        if "sink" not in op.properties or "window" not in op.properties:
            raise error_at(op, "prefill without Λ sink/window: run accllm-lambda-attention first")
        kv_heads = _int_prop(op, "num_kv_heads")
        head_dim = _shape(q)[-1] // heads
        geometry = (kv_heads, head_dim, _int_prop(op, "sink"), _int_prop(op, "window"))
        kv = self.kv_region(op, *geometry)
        self.attention(op, q, kv, geometry, tokens, heads, (k, v))

    def take_append(self, op: Operation, kv: str) -> None:
        """Remove the kv_append of region `kv` just issued: the attention `op` performs it."""
        last = self.body[-1] if self.body else None
        if not (isinstance(last, accel.KVAppendOp) and last.kv.root_reference.data == kv):
            raise error_at(
                op,
                "the attention unit appends the new tokens itself: this attention must directly "
                "follow the lattn.append of its cache",
            )
        self.body.pop()

    def position_prop(self) -> dict[str, IntegerAttr]:
        """The `position` of attention / kv_append: the function's first token position when
        it is a compile-time constant; none (the position register) when it is an argument."""
        return {} if self.first_position is None else {"position": _i(self.first_position)}

    def token_positions(self, tokens: int) -> int | None:
        """Where this function's tokens sit: the RoPE positions' constant start (a prompt),
        None for positions passed as an argument (a decode step or a prefill chunk at a
        run-time position); without RoPE, a multi-token function is a prompt from 0."""
        for op in self.ops:
            if isinstance(op, smla.RoPEOp):
                owner = op.operands[1].owner
                if isinstance(owner, arith.ConstantOp) and isinstance(
                    owner.value, DenseIntOrFPElementsAttr
                ):
                    return _arange_start(np.asarray(owner.value.get_values()))
                return None
        return 0 if tokens > 1 else None

    def lower(self) -> accel.ScheduleOp:
        tokens = 1
        for op in self.ops:
            if isinstance(op, smla.WeightOp):  # tables and weights are not token rows
                continue
            for r in op.results:
                if isinstance(r.type, QTensorType) and len(r.type.get_shape()) >= 2:
                    tokens = max(tokens, math.prod(r.type.get_shape()[:-1]))
        self.first_position = self.token_positions(tokens)
        appended: dict[tuple[SSAValue, SSAValue], SSAValue] = {}
        for i, op in enumerate(self.ops):
            self.lower_op(op, tokens, appended)
            self.release_dead(i)
        mode = "gemm" if tokens > 1 else "gemv"
        return accel.ScheduleOp.create(
            properties={
                "sym_name": StringAttr(self.low.fresh(f"{self.fn.sym_name.data}_{mode}")),
                "mode": StringAttr(mode),
                "tokens": _i(tokens),
            },
            regions=[Region(Block(self.body))],
        )

    def lower_op(self, op: Operation, tokens: int, appended: dict) -> None:
        match op:
            case smla.WeightOp():
                self.weights[op.results[0]] = op
            case smla.LinearOp() | smla.LMHeadOp():
                if not isinstance(op.operands[1].type, QWeightType):
                    raise error_at(op, "float linear: run the compression passes first")
                bias = op.operands[2] if len(op.operands) > 2 else None
                self.linear(op, op.operands[0], op.operands[1], op.results[0], tokens, bias)
            case smla.EmbeddingOp():
                table_t = op.operands[1].type
                if not isinstance(table_t, QTensorType):
                    raise error_at(op, "float embedding: run the compression passes first")
                vocab, hidden = table_t.get_shape()
                row_words = tiling.int8_words_per_row(hidden + 1)  # + the row's exponent byte
                tab = self.table(op.operands[1], op, vocab, row_words)
                self.vector(op, "embedding", [], tab)
            case smla.RMSNormOp():
                (h,) = _shape(op.operands[1])
                tab = self.table(op.operands[1], op, 1, tiling.words_of(2 * h))
                # The norm unit's descriptor constants: sh_g is the gain type's frac, eps_q the
                # contract's rounding of epsilon (contract.rmsnorm_params).
                gt = op.operands[1].type
                if not isinstance(gt, QTensorType) or gt.is_per_token():
                    raise error_at(op, "float RMSNorm gain: run the compression passes first")
                eps = op.properties["epsilon"].value.data
                norm = {
                    "gain_shift": _i(gt.frac.data),
                    "eps_q": _i(int(contract.round_half_up(eps * 2.0**contract.NUMERICS.eps_frac))),
                }
                self.vector(op, "rmsnorm", [op.operands[0]], tab, extra=norm)
            case smla.RequantizeOp():
                self.vector(op, "requantize", [op.operands[0]], None)
            case smla.RoPEOp():
                # Constant positions (a prefill) are a contiguous run starting at `position`;
                # runtime positions (a decode step's argument) come from the position register.
                rope = {
                    "head_dim": _i(op.head_dim.value.data),
                    "theta": FloatAttr(op.theta.value.data, 64),
                    "max_positions": _i(op.max_positions.value.data),
                }
                if op.inv_freq is not None:  # scaled RoPE: the model's own frequencies
                    rope["inv_freq"] = op.inv_freq
                pos = self.positions.get(op.operands[1])
                self.vector(op, "rope", [op.operands[0]], None, pos, rope)
            case smla.SiLUOp():
                self.vector(op, "silu", [op.operands[0]], None)
            case smla.SwiGLUOp() | smla.MulOp() | smla.AddOp():
                kind = {smla.SwiGLUOp: "swiglu", smla.MulOp: "mul", smla.AddOp: "add"}[type(op)]
                self.vector(op, kind, list(op.operands), None)
            case arith.ConstantOp():
                self.constant(op)
            case lattn.EmptyOp():
                self.region_of[op.results[0]] = self.cache_region(op, op.results[0].type)
            case lattn.AppendOp():
                cache, k, v = op.operands
                if cache not in self.region_of:  # a cache passed in: the layer's persistent one
                    self.region_of[cache] = self.cache_region(op, cache.type)
                kv = self.region_of[cache]
                self.region_of[op.results[0]] = kv
                appended[(k, v)] = op.results[0]
                self.appended_kv[op.results[0]] = (k, v)
                self.kv_append(op, kv, k, v)
            case lattn.PrefillOp():
                self.prefill(op, tokens, appended)
            case lattn.DecodeOp():
                q, cache = op.operands
                ct = cache.type
                geometry = (ct.heads.data, ct.head_dim.data, ct.sink.data, ct.window.data)
                heads = _int_prop(op, "num_heads")
                new = self.appended_kv.get(cache)
                if new is None:
                    raise error_at(
                        op,
                        "the attention unit attends only together with the append of the new "
                        "token: lattn.decode needs the lattn.append that produced its cache",
                    )
                kv = self.region_of[cache]
                self.take_append(op, kv)
                self.attention(op, q, kv, geometry, 1, heads, new)
            case func.ReturnOp():
                pass
            case _:
                raise error_at(op, f"'{op.name}' has no accel mapping")


def _arange_start(values: np.ndarray) -> int | None:
    """First element of a 1-D run p0, p0+1, ...; None for anything else."""
    if values.ndim != 1 or not len(values):
        return None
    start = int(values[0])
    return start if np.array_equal(values, np.arange(start, start + len(values))) else None


def _int_prop(op: Operation, name: str) -> int:
    attr = op.properties.get(name) or op.attributes.get(name)
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


@dataclass(frozen=True)
class LowerToAccel(ModulePass):
    """Map compressed smla/lattn functions onto the target's engine (accel dialect)."""

    name = "lower-to-accel"

    target: str = "sim"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        funcs = [f for f in op.ops if isinstance(f, func.FuncOp)]
        if not funcs:
            raise error_at(op, "no func.func to lower")
        for f in funcs:  # a schedule is one straight-line program
            if len(f.body.blocks) != 1:
                raise error_at(
                    f, f"lowers single-block functions, this one has {len(f.body.blocks)}"
                )
        features = [
            _shape(r)[-1]
            for f in funcs
            for o in f.body.walk()
            for r in o.results
            if isinstance(r.type, QTensorType)
        ]
        engine = derive_engine(load_target(self.target), max(features, default=1))
        # One attention pipeline per KV channel, at most one per KV head (stream_attention_unit
        # PIPES, shared by every layer).
        kv_heads = [
            _int_prop(o, "num_kv_heads")
            for f in funcs
            for o in f.body.walk()
            if isinstance(o, lattn.PrefillOp) and "num_kv_heads" in o.properties
        ]
        kv_heads += [
            v.type.heads.data
            for f in funcs
            for o in f.body.walk()
            for v in (*o.operands, *o.results)
            if isinstance(v.type, lattn.KVCacheType)
        ]
        kv_heads += [
            a.type.heads.data
            for f in funcs
            for a in f.args
            if isinstance(a.type, lattn.KVCacheType)
        ]
        engine = replace(engine, kv_channels=min(engine.kv_channels, max(kv_heads, default=1)))
        low = _Lowering(engine, op)
        schedules = [_FuncLowering(low, f).lower() for f in funcs]
        eng_props = {
            "sym_name": StringAttr("engine"),
            "target": StringAttr(engine.target),
            "channel_bytes": _i(load_target(self.target).hbm.channel_bytes),
        }
        for name in (
            "channels",
            "weight_channels",
            "kv_channels",
            "misc_channel",
            "mac_lanes",
            "mac_blocks",
            "lanes_per_channel",
            "attn_lanes",
            "act_buffer_bytes",
            "kv_buffer_bytes",
            "gemm_tokens",
            "words_per_beat",
            "tile_tokens",
            "fifo_beats",
        ):
            eng_props[name] = _i(getattr(engine, name))
        for f in funcs:
            f.detach()
            f.erase()
        op.body.block.add_ops(
            [accel.EngineOp.create(properties=eng_props), *low.resources, *schedules]
        )
