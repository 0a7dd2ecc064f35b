"""`accel`: the hardware level — engine, HBM regions, on-chip buffers and a schedule.

A module at this level holds, at its top:

* one `accel.engine` (the engine configuration derived from the target,
  `accllm.backend.target_desc.derive_engine`);
* `accel.hbm_region`s: what lives where in HBM (channel, byte offset, size, kind, source);
* `accel.buffer`s: the on-chip activation buffer carved into named pieces;
* `accel.schedule`s: ordered instruction ops (`accel.linear`, `accel.attention`,
  `accel.kv_append`, `accel.vector`, `accel.barrier`), each bound to one engine unit (`UNITS`),
  which the sequencer (docs/isa.md) dispatches in order.

Instructions name regions and buffers by symbol; their verifiers check that the symbols exist,
have the right kind, and that sizes fit (tiles, modes, channels).
"""

from __future__ import annotations

import bisect
import weakref
from typing import ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
)
from xdsl.ir import Dialect, Operation
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
)
from xdsl.traits import NoTerminator, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

from accllm.backend.tiling import linear_stream_layout
from accllm.dialects import limits
from accllm.dialects.smla import verify_inv_freq
from accllm.numerics.contract import NUMERICS
from accllm.numerics.words import WORD_BYTES, act_row_words, act_words

REGION_KINDS = ("weights", "kv", "table", "program")
BUFFER_KINDS = ("act", "kv_stage")
MODES = ("gemm", "gemv")
PRECISIONS = ("w2", "int8")
VECTOR_KINDS = (
    "embedding",
    "rmsnorm",
    "requantize",
    "rope",
    "silu",
    "swiglu",
    "mul",
    "add",
)

# Engine units (sequencer unit indices, docs/isa.md DISPATCH). One unit drives all weight
# channels of the MAC array, so the unit count stays within the ISA's 16.
UNITS: dict[str, int] = {
    "mac": 0,  # sparse MAC array + weight AXI masters/unpackers (accel.linear)
    "attn": 1,  # attention MAC + softmax + KV reads (accel.attention)
    "kv": 2,  # KV cache controller writes (accel.kv_append)
    "norm": 3,  # rmsnorm_unit
    "act": 4,  # silu_unit (silu, swiglu, mul)
    "rope": 5,  # rope_unit
    "vec": 6,  # requantizer, residual add, embedding gather
}
# The engine instance executing each sequencer unit: `kv` and `attn` are attention_unit's two
# command ports, `act` and `vec` vector_unit's. An instance runs its commands in order.
UNIT_INSTANCE: dict[str, str] = {
    "mac": "mac",
    "attn": "attn",
    "kv": "attn",
    "norm": "norm",
    "act": "vec",
    "rope": "rope",
    "vec": "vec",
}


def unit_name(index: int) -> str:
    """The UNITS name of a sequencer unit index."""
    return next(n for n, u in UNITS.items() if u == index)


VECTOR_UNIT = {
    "embedding": "vec",
    "rmsnorm": "norm",
    "requantize": "vec",
    "rope": "rope",
    "silu": "act",
    "swiglu": "act",
    "mul": "act",
    "add": "vec",
}


def _int(op: Operation, name: str) -> int:
    attr = op.properties.get(name)
    if not isinstance(attr, IntegerAttr):
        # Another op's property (a sibling not verified yet): say whose it is.
        raise VerifyException(f"'{op.name}' has no integer property '{name}'")
    return attr.value.data


def _require_position(op: Operation) -> None:
    """An optional compile-time first position: within the descriptors' 32-bit pos_base."""
    pos = op.properties.get("position")
    if isinstance(pos, IntegerAttr) and not 0 <= pos.value.data < 1 << 31:
        raise VerifyException(f"position must be in [0, 2^31), got {pos.value.data}")


def _require_positive(op: Operation, *names: str) -> None:
    for n in names:
        if _int(op, n) <= 0:
            raise VerifyException(f"{n} must be > 0, got {_int(op, n)}")


def _require_at_most(op: Operation, limit: int, why: str, *names: str) -> None:
    for n in names:
        if _int(op, n) > limit:
            raise VerifyException(f"{n} = {_int(op, n)} exceeds {limit} ({why})")


def _require_buffer(op: Operation, ref: SymbolRefAttr, need: int, what: str) -> None:
    buf = _lookup(op, ref, BufferOp, ("act",))
    if _int(buf, "bytes") < need:
        raise VerifyException(f"{ref} holds {_int(buf, 'bytes')} bytes, the {what} needs {need}")


def _act_bytes(tokens: int, length: int, bits: int, per_token: bool = False) -> int:
    return act_words(tokens, length, bits, per_token) * WORD_BYTES


def _choice(value: StringAttr, allowed: tuple[str, ...], what: str) -> str:
    if value.data not in allowed:
        raise VerifyException(f"{what} must be one of {list(allowed)}, got '{value.data}'")
    return value.data


def _top(op: Operation) -> ModuleOp:
    cur: Operation | None = op
    while cur is not None and not isinstance(cur, ModuleOp):
        cur = cur.parent_op()
    if cur is None:
        raise VerifyException("must be nested in a builtin.module")
    return cur


class _ModuleIndex:
    """The module's symbols, engines and HBM regions per channel, built in one walk.

    Verifying a 7B design looks up thousands of symbols and checks thousands of regions for
    overlaps: walking the module each time is quadratic.  The index is kept per module and
    rebuilt whenever an entry it returns is stale (detached, renamed or moved), so a
    verifier never acts on a changed module's old state; see `_index`."""

    def __init__(self, module: ModuleOp):
        self.module = module
        self.symbols: dict[str, Operation] = {}
        self.engines: list[EngineOp] = []
        self.regions: dict[HBMRegionOp, tuple] = {}  # region -> (order, channels, off, size)
        per_channel: dict[int, list[tuple[int, int, int, HBMRegionOp]]] = {}
        for i, o in enumerate(module.ops):
            name = o.properties.get("sym_name")
            if isinstance(name, StringAttr):
                self.symbols.setdefault(name.data, o)
            if isinstance(o, EngineOp):
                self.engines.append(o)
            elif isinstance(o, HBMRegionOp) and (key := _region_key(o)) is not None:
                self.regions[o] = (i, *key)
                for c in key[0]:
                    per_channel.setdefault(c, []).append((key[1], key[1] + key[2], i, o))
        self.starts: dict[int, list[int]] = {}
        self.spans: dict[int, list[tuple[int, int, int, HBMRegionOp]]] = {}
        self.longest: dict[int, int] = {}
        for c, spans in per_channel.items():
            spans.sort(key=lambda s: s[0])
            self.spans[c], self.starts[c] = spans, [s[0] for s in spans]
            self.longest[c] = max(e - b for b, e, _, _ in spans)

    def earlier_overlap(self, region: HBMRegionOp) -> tuple[HBMRegionOp, int] | None:
        """A region before `region` in the module sharing bytes with it on some channel."""
        order, channels, off, size = self.regions[region]
        for c in channels:
            spans, starts = self.spans[c], self.starts[c]
            j = bisect.bisect_left(starts, off + size) - 1
            while j >= 0 and spans[j][0] + self.longest[c] > off:
                b, e, i, other = spans[j]
                if i < order and b < off + size and off < e:
                    return other, c
                j -= 1
        return None


_INDEX: weakref.WeakKeyDictionary[ModuleOp, _ModuleIndex] = weakref.WeakKeyDictionary()


def _region_key(o: HBMRegionOp) -> tuple | None:
    props = (o.properties.get(n) for n in ("channel", "offset", "bytes"))
    if not all(isinstance(v, IntegerAttr) for v in props):
        return None  # malformed: reported by its own verifier
    return tuple(o.channels()), _int(o, "offset"), _int(o, "bytes")


def _index(module: ModuleOp, fresh: bool = False) -> _ModuleIndex:
    idx = _INDEX.get(module)
    if idx is None or fresh:
        idx = _INDEX[module] = _ModuleIndex(module)
    return idx


def _current(module: ModuleOp, o: Operation, name: str | None = None) -> bool:
    """`o` (from the index) is still in `module`, under `name`."""
    if o.parent_op() is not module:
        return False
    sym = o.properties.get("sym_name")
    return name is None or (isinstance(sym, StringAttr) and sym.data == name)


def engine_of(op: Operation) -> EngineOp:
    """The module's one accel.engine."""
    module = _top(op)
    engines = _index(module).engines
    if len(engines) != 1 or not _current(module, engines[0]):
        engines = _index(module, fresh=True).engines
    if len(engines) != 1:
        raise VerifyException(
            f"the module must hold exactly one accel.engine, found {len(engines)}"
        )
    return engines[0]


def _lookup(op: Operation, ref: SymbolRefAttr, cls: type, kind: tuple[str, ...] | None = None):
    if ref.nested_references.data:
        target = SymbolTable.lookup_symbol(op, ref)
    else:
        module, name = _top(op), ref.root_reference.data
        target = _index(module).symbols.get(name)
        if target is None or not _current(module, target, name):
            target = _index(module, fresh=True).symbols.get(name)
    if not isinstance(target, cls):
        raise VerifyException(f"{ref} does not name an '{cls.name}'")
    if kind is not None:
        got = target.properties.get("kind")
        if not isinstance(got, StringAttr):
            raise VerifyException(f"{ref} has no 'kind'")
        if got.data not in kind:
            raise VerifyException(f"{ref} is a '{got.data}' {cls.name}, expected {list(kind)}")
    return target


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


@irdl_op_definition
class EngineOp(IRDLOperation):
    """The engine configuration of the target (see `target_desc.EngineConfig`): HBM channels
    and their assignment, MAC array lanes/blocks, attention lanes, on-chip buffer sizes and the
    prefill (GEMM) tile height."""

    name = "accel.engine"

    sym_name = prop_def(SymbolNameConstraint())
    target = prop_def(StringAttr)
    channels = prop_def(IntegerAttr)
    weight_channels = prop_def(IntegerAttr)
    kv_channels = prop_def(IntegerAttr)
    misc_channel = prop_def(IntegerAttr)
    mac_lanes = prop_def(IntegerAttr)
    mac_blocks = prop_def(IntegerAttr)
    lanes_per_channel = prop_def(IntegerAttr)
    attn_lanes = prop_def(IntegerAttr)
    act_buffer_bytes = prop_def(IntegerAttr)
    kv_buffer_bytes = prop_def(IntegerAttr)
    gemm_tokens = prop_def(IntegerAttr)
    words_per_beat = prop_def(IntegerAttr)
    tile_tokens = prop_def(IntegerAttr)
    fifo_beats = prop_def(IntegerAttr)
    channel_bytes = prop_def(IntegerAttr)

    traits = traits_def(SymbolOpInterface())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict"

    def get(self, name: str) -> int:
        return _int(self, name)

    def verify_(self) -> None:
        sizes = [n for n in self.properties if n not in ("sym_name", "target")]
        _require_positive(self, *sizes)
        _require_at_most(self, limits.RTL_PARAM_MAX, "a 32-bit RTL parameter", *sizes)
        if NUMERICS.blocks_per_word % self.get("mac_blocks"):
            raise VerifyException(
                f"mac_blocks must divide the {NUMERICS.blocks_per_word} blocks of a stream word, "
                f"got {self.get('mac_blocks')}"
            )
        # Every channel may stream weights (its prefetcher); KV regions and tables share them.
        for part in ("weight_channels", "kv_channels"):
            if self.get(part) > self.get("channels"):
                raise VerifyException(f"{part} exceeds channels")
        if self.get("misc_channel") >= self.get("channels"):
            raise VerifyException("misc_channel is not a channel of the engine")
        if self.get("mac_lanes") != self.get("lanes_per_channel") * self.get("weight_channels"):
            raise VerifyException("mac_lanes must equal lanes_per_channel * weight_channels")
        if self.get("lanes_per_channel") < self.get("words_per_beat"):
            raise VerifyException(
                "lanes_per_channel must be at least words_per_beat (one lane per word of a beat)"
            )
        if 32 % self.get("tile_tokens"):
            raise VerifyException("tile_tokens must divide 32 (a tile's exponents share a word)")
        if self.get("fifo_beats") & (self.get("fifo_beats") - 1):
            raise VerifyException("fifo_beats must be a power of two (stream_fifo DEPTH)")


@irdl_op_definition
class HBMRegionOp(IRDLOperation):
    """A contiguous byte range of one HBM channel holding one thing: a linear's stream on one
    channel, a layer's KV rings, a table, or the program.  `source` names the parameter it is
    filled from (`file:key`) when it holds model data.  `stripes` (default 1): the region is
    the same byte range on channels channel .. channel + stripes - 1 (a layer's KV rings, one
    ring per KV head on channel head mod stripes).  Offsets and sizes are whole stream words;
    regions must not overlap on any channel."""

    name = "accel.hbm_region"

    sym_name = prop_def(SymbolNameConstraint())
    kind = prop_def(StringAttr)
    channel = prop_def(IntegerAttr)
    offset = prop_def(IntegerAttr)
    bytes = prop_def(IntegerAttr)
    source = opt_prop_def(StringAttr)
    stripes = opt_prop_def(IntegerAttr)

    traits = traits_def(SymbolOpInterface())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict"

    def verify_(self) -> None:
        _choice(self.kind, REGION_KINDS, "kind")
        _require_positive(self, "bytes")
        off, size = _int(self, "offset"), _int(self, "bytes")
        if off < 0 or off % WORD_BYTES or size % WORD_BYTES:
            raise VerifyException(
                f"offset and bytes must be non-negative multiples of the {WORD_BYTES}-byte word"
            )
        eng = engine_of(self)
        ch = _int(self, "channel")
        if self.stripes is not None:
            _require_positive(self, "stripes")
        mine = self.channels()
        if ch < 0 or mine.stop > eng.get("channels"):
            raise VerifyException(
                f"channels {mine.start}..{mine.stop - 1} outside the engine's {eng.get('channels')}"
            )
        if off + size > eng.get("channel_bytes"):
            raise VerifyException(
                f"region ends at byte {off + size}, beyond the channel's {eng.get('channel_bytes')}"
            )
        # Overlaps are reported at the later of two regions, from the module's index (an
        # index entry that no longer matches the module is rebuilt first).
        module = _top(self)
        idx = _index(module)
        if idx.regions.get(self, (None,))[1:] != _region_key(self):
            idx = _index(module, fresh=True)
        hit = idx.earlier_overlap(self)
        if hit is not None and (
            not _current(module, hit[0]) or idx.regions[hit[0]][1:] != _region_key(hit[0])
        ):
            idx = _index(module, fresh=True)
            hit = idx.earlier_overlap(self)
        if hit is not None:
            raise VerifyException(f"overlaps @{hit[0].sym_name.data} on channel {hit[1]}")

    def channels(self) -> range:
        """The channels the region occupies (`stripes` of them from `channel`)."""
        n = self.stripes.value.data if isinstance(self.stripes, IntegerAttr) else 1
        return range(_int(self, "channel"), _int(self, "channel") + max(n, 1))


@irdl_op_definition
class BufferOp(IRDLOperation):
    """A named piece of the on-chip activation buffer (`offset`, `bytes`), holding one live
    activation; pieces whose lifetimes do not overlap may share bytes (the allocator decides)."""

    name = "accel.buffer"

    sym_name = prop_def(SymbolNameConstraint())
    kind = prop_def(StringAttr)
    offset = prop_def(IntegerAttr)
    bytes = prop_def(IntegerAttr)

    traits = traits_def(SymbolOpInterface())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict"

    def verify_(self) -> None:
        _choice(self.kind, BUFFER_KINDS, "kind")
        _require_positive(self, "bytes")
        end = _int(self, "offset") + _int(self, "bytes")
        limit_name = "act_buffer_bytes" if self.kind.data == "act" else "kv_buffer_bytes"
        limit = engine_of(self).get(limit_name)
        if _int(self, "offset") < 0 or end > limit:
            raise VerifyException(f"buffer ends at byte {end}, beyond {limit_name} = {limit}")


# --------------------------------------------------------------------------------------------
# The schedule and its instructions
# --------------------------------------------------------------------------------------------


@irdl_op_definition
class ScheduleOp(IRDLOperation):
    """An ordered instruction stream (one sequencer program): `mode` gemm = prefill of
    `tokens` tokens, gemv = one decode step."""

    name = "accel.schedule"

    sym_name = prop_def(SymbolNameConstraint())
    mode = prop_def(StringAttr)
    tokens = prop_def(IntegerAttr)
    body = region_def("single_block")

    traits = traits_def(SymbolOpInterface(), NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict-with-keyword $body"

    def verify_(self) -> None:
        mode = _choice(self.mode, MODES, "mode")
        _require_positive(self, "tokens")
        if mode == "gemv" and _int(self, "tokens") != 1:
            raise VerifyException("a gemv (decode) schedule runs exactly one token")
        for op in self.body.block.ops:
            if not isinstance(op, InstructionOp):
                raise VerifyException(f"'{op.name}' is not an accel instruction")


class InstructionOp(IRDLOperation):
    """Base of the schedule's instructions: each runs on one engine unit."""

    UNIT: ClassVar[str]

    def unit(self) -> int:
        return UNITS[self.UNIT]

    def schedule(self) -> ScheduleOp:
        parent = self.parent_op()
        if not isinstance(parent, ScheduleOp):
            raise VerifyException("must be inside an accel.schedule")
        return parent

    def buffers(self, *names: str) -> None:
        for n in names:
            _lookup(self, self.properties[n], BufferOp, ("act",))


@irdl_op_definition
class LinearOp(InstructionOp):
    """y[tokens, n] = x[tokens, k] @ W^T on the stream-fed MAC unit (unit `mac`), the numerics
    of `contract.linear_w2a8` (precision w2: 2:4 W2 codes, per-group zero point and dyadic
    scale, A8 input with a per-token exponent, Q15.16 output) or `contract.linear_int8` (int8,
    the LM head).  `weights` lists one region per weight channel in use, channel c holding rows
    [c * rows_per_channel, ...) as that channel's stream (`tiling.stream_layout`: per pass the
    lanes' metadata entries, then their weight words); `mode` gemm (prefill) or gemv (decode).
    A gemm of more tokens than the engine's `tile_tokens` runs tile by tile.
    `bias` (w2 only; Qwen2's q/k/v): the Q15.16 bias parameter ("file:key", contract
    `quantize_bias`); its values travel in the weight stream, two entries after each row's
    exponent, and the unit adds them after the requantizer (`contract.linear_bias_add`).
    `input_k` (w2 only): the activations' K when the weights' k is zero-padded past it (contract
    `padded_k`, within the last activation word); the unit reads the padded inputs as zeros."""

    name = "accel.linear"
    UNIT: ClassVar[str] = "mac"

    mode = prop_def(StringAttr)
    precision = prop_def(StringAttr)
    weights = prop_def(ArrayAttr[SymbolRefAttr])
    input = prop_def(SymbolRefAttr)
    output = prop_def(SymbolRefAttr)
    n = prop_def(IntegerAttr)
    k = prop_def(IntegerAttr)
    group = prop_def(IntegerAttr)
    tokens = prop_def(IntegerAttr)
    rows_per_channel = prop_def(IntegerAttr)
    bias = opt_prop_def(StringAttr)
    input_k = opt_prop_def(IntegerAttr)

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def verify_(self) -> None:
        mode = _choice(self.mode, MODES, "mode")
        prec = _choice(self.precision, PRECISIONS, "precision")
        if self.bias is not None and prec != "w2":
            raise VerifyException(f"a {prec} linear takes no bias (only w2 streams carry one)")
        if self.input_k is not None:
            in_k, k = _int(self, "input_k"), _int(self, "k")
            if prec != "w2" or not 0 < in_k < k or act_row_words(in_k, 8) != act_row_words(k, 8):
                raise VerifyException(
                    f"input_k {in_k} must be a w2 linear's K zero-padded to k = {k} within the "
                    "last activation word"
                )
        _require_positive(self, "n", "k", "group", "tokens", "rows_per_channel")
        _require_at_most(
            self,
            limits.MAX_FEATURES,
            "a 20-bit linear descriptor field",
            "n",
            "k",
            "rows_per_channel",
            "group",
        )
        _require_at_most(self, limits.MAX_TOKENS, "a 16-bit descriptor field", "tokens")
        n, k, per = _int(self, "n"), _int(self, "k"), _int(self, "rows_per_channel")
        tokens = _int(self, "tokens")
        if (mode == "gemv") != (tokens == 1):
            raise VerifyException(f"mode {mode} with {tokens} tokens (gemv is exactly one token)")
        eng = engine_of(self)
        if tokens > eng.get("gemm_tokens"):
            raise VerifyException(
                f"{tokens} tokens exceed the engine's token limit (gemm_tokens) of "
                f"{eng.get('gemm_tokens')}"
            )
        if k % _int(self, "group"):
            raise VerifyException(f"group {_int(self, 'group')} does not divide k = {k}")
        regions = [_lookup(self, r, HBMRegionOp, ("weights",)) for r in self.weights.data]
        if -(-n // per) != len(regions):
            raise VerifyException(
                f"{n} rows at {per} per channel need {-(-n // per)} weight regions, "
                f"got {len(regions)}"
            )
        channels = [_int(r, "channel") for r in regions]
        if len(set(channels)) != len(channels) or any(
            c >= eng.get("weight_channels") for c in channels
        ):
            raise VerifyException(f"weight regions must be on distinct weight channels: {channels}")
        layout = linear_stream_layout(
            n, k, _int(self, "group"), prec, per, eng.get("lanes_per_channel"),
            eng.get("words_per_beat"), self.bias is not None,
        )  # fmt: skip
        need = layout.beats * layout.words_per_beat * WORD_BYTES
        for r in regions:
            if _int(r, "bytes") < need:
                raise VerifyException(
                    f"@{r.sym_name.data} holds {_int(r, 'bytes')} bytes, the stream of {per} "
                    f"rows needs {need}"
                )
        # The MAC array reads A8 rows (+ per-token exponents) and writes Q15.16 rows.
        _require_buffer(
            self, self.input, _act_bytes(tokens, k, 8, True), f"A8 input [{tokens}x{k}]"
        )
        _require_buffer(
            self, self.output, _act_bytes(tokens, n, 32), f"Q15.16 output [{tokens}x{n}]"
        )


@irdl_op_definition
class AttentionOp(InstructionOp):
    """Λ attention of one layer on the attention unit: `mode` gemm = causal prefill of `tokens`
    queries, gemv = one decode query; reads K/V (KV4) of the visible slots from `kv`.
    `position`: the absolute position of the first token when known at compile time (a prompt
    from 0); absent = the engine's position register (a decode step or a prefill chunk at a
    run-time position). Token t is at position + t.
    `k`, `v` (required for more than one token): the new tokens' K and V rows (Q15.16); the
    unit KV4-quantizes token t's into its Λ slot right before query t attends, so a chunk that
    wraps the window never overwrites a slot an earlier query of the chunk still sees (a
    separate accel.kv_append of the whole chunk first would)."""

    name = "accel.attention"
    UNIT: ClassVar[str] = "attn"

    mode = prop_def(StringAttr)
    kv = prop_def(SymbolRefAttr)
    q = prop_def(SymbolRefAttr)
    output = prop_def(SymbolRefAttr)
    heads = prop_def(IntegerAttr)
    kv_heads = prop_def(IntegerAttr)
    head_dim = prop_def(IntegerAttr)
    sink = prop_def(IntegerAttr)
    window = prop_def(IntegerAttr)
    tokens = prop_def(IntegerAttr)
    position = opt_prop_def(IntegerAttr)
    k = opt_prop_def(SymbolRefAttr)
    v = opt_prop_def(SymbolRefAttr)

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def verify_(self) -> None:
        _require_position(self)
        if (self.k is None) != (self.v is None):
            raise VerifyException("k and v come together (the tokens' K and V rows)")
        if self.k is None and _int(self, "tokens") > 1:
            raise VerifyException(
                f"an attention of {_int(self, 'tokens')} tokens appends them itself: it needs "
                "their K and V rows (k, v)"
            )
        if self.k is not None:
            self.buffers("k", "v")
        mode = _choice(self.mode, MODES, "mode")
        _require_positive(self, "heads", "kv_heads", "head_dim", "window", "tokens")
        if _int(self, "sink") < 0:
            raise VerifyException(f"sink must be >= 0, got {_int(self, 'sink')}")
        _require_at_most(self, limits.MAX_HEADS, "an 8-bit descriptor field", "heads", "kv_heads")
        _require_at_most(self, limits.MAX_TOKENS, "a 16-bit descriptor field", "tokens")
        _require_at_most(
            self, limits.RTL_PARAM_MAX, "a 32-bit RTL parameter", "head_dim", "sink", "window"
        )
        tokens, hd = _int(self, "tokens"), _int(self, "head_dim")
        entries = _int(self, "kv_heads") * (_int(self, "sink") + _int(self, "window"))
        if entries > limits.RTL_PARAM_MAX:
            raise VerifyException(
                f"kv_heads * (sink + window) = {entries} KV entries exceed "
                f"{limits.RTL_PARAM_MAX} (the 32-bit KV_ENTRIES parameter)"
            )
        if (mode == "gemv") != (tokens == 1):
            raise VerifyException(f"mode {mode} with {tokens} tokens")
        if _int(self, "heads") % _int(self, "kv_heads"):
            raise VerifyException("heads must be a multiple of kv_heads (GQA)")
        _lookup(self, self.kv, HBMRegionOp, ("kv",))
        # Q15.16 query rows in, Q15.16 output rows out: heads * head_dim values per token.
        row = _int(self, "heads") * hd
        _require_buffer(self, self.q, _act_bytes(tokens, row, 32), f"Q15.16 query [{tokens}x{row}]")
        _require_buffer(
            self, self.output, _act_bytes(tokens, row, 32), f"Q15.16 output [{tokens}x{row}]"
        )


@irdl_op_definition
class KVAppendOp(InstructionOp):
    """Quantize (KV4) and write `tokens` tokens' K and V into their Λ slots of `kv` (unit
    `kv`, the KV cache controller). `position` as for accel.attention (absent = the position
    register)."""

    name = "accel.kv_append"
    UNIT: ClassVar[str] = "kv"

    kv = prop_def(SymbolRefAttr)
    k = prop_def(SymbolRefAttr)
    v = prop_def(SymbolRefAttr)
    tokens = prop_def(IntegerAttr)
    position = opt_prop_def(IntegerAttr)

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def verify_(self) -> None:
        _require_position(self)
        _require_positive(self, "tokens")
        _lookup(self, self.kv, HBMRegionOp, ("kv",))
        self.buffers("k", "v")


@irdl_op_definition
class VectorOp(InstructionOp):
    """An element/row-wise step on a nonlinear or vector unit (`VECTOR_UNIT[kind]`):
    embedding gather, RMSNorm, requantization, RoPE, SiLU, SwiGLU, mul, residual add over
    `tokens` rows of `length` elements.  `table` names the HBM table it reads, if any."""

    name = "accel.vector"
    UNIT: ClassVar[str] = "vec"

    kind = prop_def(StringAttr)
    inputs = prop_def(ArrayAttr[SymbolRefAttr])
    output = prop_def(SymbolRefAttr)
    table = opt_prop_def(SymbolRefAttr)
    # RoPE only: the absolute position of the first token when known at compile time (prefill);
    # absent = the engine's runtime position register (decode).
    position = opt_prop_def(IntegerAttr)
    length = prop_def(IntegerAttr)
    tokens = prop_def(IntegerAttr)
    # RoPE only: the rotation's head size and table constants (smla.rope's head_dim, theta,
    # max_positions): the rope unit's HALF and the tables the loader writes depend on them.
    head_dim = opt_prop_def(IntegerAttr)
    theta = opt_prop_def(FloatAttr)
    max_positions = opt_prop_def(IntegerAttr)
    # Scaled RoPE (smla.rope's inv_freq, e.g. Llama-3 `llama3`): the model's own frequencies,
    # from which the loader's tables are built; absent = contract.rope_inv_freq(theta, head_dim).
    inv_freq = opt_prop_def(DenseArrayBase)
    # RMSNorm only: the gain shift sh_g and eps in units of 2^-32 (NormParams.shift / .eps_q,
    # from the smla.rmsnorm gain type's frac and epsilon): descriptor fields of the norm unit.
    gain_shift = opt_prop_def(IntegerAttr)
    eps_q = opt_prop_def(IntegerAttr)

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def unit(self) -> int:
        return UNITS[VECTOR_UNIT[self.kind.data]]

    def verify_(self) -> None:
        kind = _choice(self.kind, VECTOR_KINDS, "kind")
        _require_positive(self, "length", "tokens")
        _require_at_most(self, limits.MAX_FEATURES, "a 20-bit descriptor field", "length")
        _require_at_most(self, limits.MAX_TOKENS, "a 16-bit descriptor field", "tokens")
        arity = {"add": 2, "mul": 2, "swiglu": 2}.get(kind, 1)
        if kind == "embedding":
            arity = 0 if self.table is not None else 1
        if len(self.inputs.data) != arity:
            raise VerifyException(f"'{kind}' takes {arity} input buffer(s)")
        for ref in self.inputs.data:
            _lookup(self, ref, BufferOp, ("act",))
        if kind in ("embedding", "rmsnorm") and self.table is None:
            raise VerifyException(f"'{kind}' needs a table (HBM region)")
        if self.table is not None:
            _lookup(self, self.table, HBMRegionOp, ("table",))
        if self.position is not None and (kind != "rope" or self.position.value.data < 0):
            raise VerifyException("only 'rope' takes a position, and it must be >= 0")
        rope_attrs = (self.head_dim, self.theta, self.max_positions, self.inv_freq)
        if kind != "rope" and any(a is not None for a in rope_attrs):
            raise VerifyException("only 'rope' takes head_dim / theta / max_positions / inv_freq")
        if self.inv_freq is not None:
            if self.head_dim is None:
                raise VerifyException("rope inv_freq needs head_dim (it holds head_dim/2 values)")
            verify_inv_freq(self.inv_freq, self.head_dim.value.data)
        if self.head_dim is not None:
            hd = self.head_dim.value.data
            if hd <= 0 or hd % 2 or self.length.value.data % hd:
                raise VerifyException(
                    f"rope head_dim {hd} must be even, > 0 and divide length "
                    f"{self.length.value.data}"
                )
        if self.theta is not None and not self.theta.value.data > 0:
            raise VerifyException("rope theta must be > 0")
        if self.max_positions is not None:
            mp = self.max_positions.value.data
            if not 0 < mp <= limits.MAX_POSITIONS:
                raise VerifyException(
                    f"rope max_positions must be in [1, {limits.MAX_POSITIONS}] (RoPE table "
                    f"size), got {mp}"
                )
            if self.position is not None:
                last = self.position.value.data + self.tokens.value.data - 1
                if last >= mp:
                    raise VerifyException(
                        f"rope positions up to {last} are beyond max_positions = {mp}"
                    )
        if self.head_dim is not None and self.head_dim.value.data > limits.RTL_PARAM_MAX:
            raise VerifyException(f"rope head_dim exceeds {limits.RTL_PARAM_MAX}")
        if kind != "rmsnorm" and (self.gain_shift is not None or self.eps_q is not None):
            raise VerifyException("only 'rmsnorm' takes gain_shift / eps_q")
        if (
            self.gain_shift is not None
            and not 0 <= self.gain_shift.value.data <= NUMERICS.shift_max
        ):
            raise VerifyException(f"rmsnorm gain_shift must be in [0, {NUMERICS.shift_max}]")
        if self.eps_q is not None and not 0 <= self.eps_q.value.data < 1 << 32:
            raise VerifyException("rmsnorm eps_q must be in [0, 2^32)")
        # Every vector kind reads and writes at least one byte per element (A8 rows; residual
        # and Q15.16 rows are 4 bytes).
        tokens, length = _int(self, "tokens"), _int(self, "length")
        need = _act_bytes(tokens, length, 8)
        for ref in self.inputs.data:
            _require_buffer(self, ref, need, f"input [{tokens}x{length}]")
        _require_buffer(self, self.output, need, f"output [{tokens}x{length}]")


@irdl_op_definition
class BarrierOp(InstructionOp):
    """Wait until every command dispatched so far to the `units` (UNITS indices) completed."""

    name = "accel.barrier"
    UNIT: ClassVar[str] = "mac"

    units = prop_def(ArrayAttr[IntegerAttr])

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def unit_set(self) -> list[int]:
        return [u.value.data for u in self.units.data]

    def verify_(self) -> None:
        units = self.unit_set()
        if not units or any(u not in UNITS.values() for u in units):
            raise VerifyException(f"units must be a non-empty subset of {sorted(UNITS.values())}")


ACCEL = Dialect(
    "accel",
    [
        EngineOp,
        HBMRegionOp,
        BufferOp,
        ScheduleOp,
        LinearOp,
        AttentionOp,
        KVAppendOp,
        VectorOp,
        BarrierOp,
    ],
    [],
)
