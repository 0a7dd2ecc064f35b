"""Cycles and HBM bytes of each engine step, and of a whole schedule (units run concurrently).

The per-step costs are the latency/throughput figures of the rtl_lib primitives (docs/rtl_lib.md)
applied to the step's sizes from `backend/tiling.py`; docs/performance.md lists every rule.  The
schedule model is the sequencer's (docs/isa.md): one instruction issued every `ISSUE_CYCLES`,
each unit runs its commands in order, a barrier waits for the units it names; at the model level
(no barriers) a step waits for the steps that produce its inputs.

`PerfOptions` are the design choices that move decode toward the HBM roofline:
metadata `encoding`, `double_buffer` (prefetch a step's HBM stream while the previous step runs),
`striping` (metadata beside the weights on every weight channel, and every KV cache striped over
all channels, instead of the lowering's metadata-on-the-misc-channel and one KV channel per
layer), `act_onchip` (activations stay in the on-chip buffer; off = spilled to HBM between
steps), plus the attention unit's size (`attn_lanes`, `softmax_units`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from accllm.backend import tiling
from accllm.backend.perf.workload import Step
from accllm.backend.target_desc import WORD_BYTES, EngineConfig, TargetDesc
from accllm.numerics.contract import NUMERICS

ENCODINGS = ("pattern3", "index2")
ISSUE_CYCLES = 3  # sequencer: fetch, decode, dispatch per instruction (docs/rtl_lib.md)
AXI_ISSUE = 3  # axi_read_master: AR 2 cycles after the command, data 1 cycle after R
UNPACK_LAT, MAC_LAT = 1, 4  # w2_unpacker, sparse_mac_array latencies
ATTN_LAT = 5  # attn_mac latency after the reduction's last beat
SOFTMAX_FIXED = 52  # softmax_unit: one row every 3N + 52 cycles
RMSNORM_FIXED = 15  # rmsnorm_unit: one row every 3H + 15 cycles
REQUANT_LANES = 4  # requantizer LANES at the baseline
VEC_LAT = 3  # requantizer / silu_unit / rope_unit pipeline depth
# index2: 2:4 metadata as two 2-bit indices -> 8-bit blocks, 32 per 256-bit word.
INDEX2_BLOCKS_PER_WORD = NUMERICS.word_bits // (2 * NUMERICS.w_bits + 4)


@dataclass(frozen=True)
class PerfOptions:
    """Design choices evaluated by the estimate (defaults = the design as lowered today)."""

    encoding: str = "pattern3"
    double_buffer: bool = False
    striping: bool = False
    act_onchip: bool = True
    attn_lanes: int = 0  # 0: the engine's (rtl_lib attn_mac LANES)
    softmax_units: int = 1
    vector_lanes: int = 1  # copies of the row units (RMSNorm, requantizer, SiLU, RoPE, add)
    write_lanes: int = 1  # linear results written per cycle (linear_unit: 1; a word holds 8)

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {list(ENCODINGS)}, got {self.encoding!r}")
        if (
            self.attn_lanes < 0
            or self.softmax_units < 1
            or min(self.vector_lanes, self.write_lanes) < 1
        ):
            raise ValueError("attn_lanes must be >= 0, softmax_units and vector_lanes >= 1")


# Every option toward the roofline, sized to stay within the u280 budget (docs/performance.md).
ROOFLINE_OPTIONS = PerfOptions(
    double_buffer=True,
    striping=True,
    attn_lanes=512,
    softmax_units=16,
    vector_lanes=16,
    write_lanes=8,
)


@dataclass
class Cost:
    """Cycles of one step (or sum of steps) and HBM bytes read/written."""

    cycles: float = 0.0
    read: float = 0.0
    written: float = 0.0

    def __iadd__(self, o: Cost) -> Cost:
        self.cycles += o.cycles
        self.read += o.read
        self.written += o.written
        return self


@dataclass(frozen=True)
class Machine:
    """Target + engine + options: everything a step's cost depends on besides the step."""

    target: TargetDesc
    engine: EngineConfig
    options: PerfOptions = PerfOptions()

    @property
    def wpc(self) -> float:
        """Stream words per cycle of one HBM channel."""
        return self.engine.words_per_cycle

    @property
    def attn_lanes(self) -> int:
        return self.options.attn_lanes or self.engine.attn_lanes

    def fill_cycles(self) -> int:
        """Cycles from a read command to its first word (axi_read_master + HBM latency)."""
        return self.target.hbm.latency_cycles + AXI_ISSUE

    def fill(self) -> int:
        """The fill a step pays (hidden by double buffering: the stream is prefetched)."""
        return 0 if self.options.double_buffer else self.fill_cycles()

    def kv_channels(self) -> int:
        """Channels one layer's KV cache is read from."""
        return self.engine.channels if self.options.striping else 1

    def spill_channels(self) -> int:
        return self.engine.channels if self.options.striping else 1

    def blocks_per_word(self) -> int:
        if self.options.encoding == "pattern3":
            return NUMERICS.blocks_per_word
        return INDEX2_BLOCKS_PER_WORD


def weight_words_per_row(k: int, precision: str, encoding: str) -> int:
    """HBM words of one output row (contract stream for pattern3; 8-bit blocks for index2)."""
    if precision == "int8":
        return tiling.int8_words_per_row(k)
    if encoding == "pattern3":
        return tiling.w2_weight_words(1, k)
    return tiling.ceil_div(k // 4, INDEX2_BLOCKS_PER_WORD)


def stream_round_cycles(lanes: int, rate: float, beats: int) -> float:
    """Cycles between the starts of two consecutive word rounds (one word per lane) of a weight
    channel in linear_unit (steady state).

    Each lane's w2_unpacker holds one word and takes the next only in the cycle its last beat
    leaves, and the channel's words arrive in lane order, so round r + 1 cannot be prefetched:
    lane 0's word enters with round r's last beat, lane 1's the cycle after (the channel had
    time to bank a credit), lanes 2.. one per 1/rate cycles, and the MAC fires the round's
    `beats` once every lane holds its word.  A slow channel sets the pace instead
    (`lanes / rate`).
    """
    if lanes == 1:
        return max(1 / rate, beats)
    return max(lanes / rate, beats + 1 + (lanes - 2) / rate)


def linear_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """A linear on the MAC unit (rtl_lib/linear_unit.sv), phase by phase.

    Without double buffering this is the RTL's state machine cycle for cycle (validated against
    Verilator on the sim-like targets: test/backend/test_perf_validation.py):
    per command S_IDLE accept + S_DESC (2 cycles) and S_DONE (1); per pass S_META_CMD, the fill,
    then the pass's records (every weight channel x lanes x MW words) on the misc channel; per
    pass and token S_XLOAD (k/32) + S_FX (1), S_W_CMD (1), the fill, the first word round, the
    remaining rounds of the row's words (`stream_round_cycles`), the MAC pipeline, then S_WRITE
    one lane of every weight channel per cycle (padding lanes included).  Words reach the unit
    at most one per cycle per channel (256-bit ports), whatever the HBM could deliver.  Prefill
    re-streams the weights per token (the unit is GEMV-shaped).

    With double buffering (a what-if of a unit that prefetches the next phase's streams while
    the current one runs and consumes a channel's full rate) the phases overlap and the slowest
    sets the pace.
    """
    if s.precision == "int8":
        return int8_linear_cost(s, m, tokens)
    eng = m.engine
    split = tiling.split_rows(s.n, eng)
    lanes = eng.lanes_per_channel
    wpr = weight_words_per_row(s.k, s.precision, m.options.encoding)
    mw = tiling.w2_meta_words_per_row(s.k, s.group)
    meta_words = s.n * mw
    beats_per_word = math.ceil(m.blocks_per_word() / eng.mac_blocks)  # padding beats too
    beats = wpr * beats_per_word
    xload = tiling.ceil_div(s.k, WORD_BYTES) + 1  # S_XLOAD: k/32 words, S_FX: exponent byte
    if m.options.double_buffer:
        ch = split.channels_used
        # Metadata of one pass: all channels' records on the misc channel, or (striping) each
        # channel's own records beside its weights.
        meta = (lanes * mw if m.options.striping else ch * lanes * mw) / m.wpc
        stream = lanes * wpr / m.wpc
        write = math.ceil(ch * lanes / m.options.write_lanes)
        per_token = max(xload, stream, beats, write)
        per_pass = max(meta, per_token * tokens)
        cycles = split.passes * per_pass + 2 * m.fill_cycles() + UNPACK_LAT + MAC_LAT
    else:
        fill = m.fill_cycles()
        rate = min(m.wpc, 1.0)  # linear_unit's w_data / m_data: one 256-bit word per cycle
        ch = eng.weight_channels  # the unit runs every channel's lanes, used or not
        records = (lanes if m.options.striping else ch * lanes) * mw
        # S_META_CMD, the fill, the first record's handshake, the others at the channel's rate.
        meta = 1 + fill + 1 + (records - 1) / rate if records else 0
        # S_W_CMD, the fill, lane 0's handshake, the first round's other lanes, the unpacker's
        # cycle and the round's beats; then the row's other rounds; the MAC pipeline's latency
        # (S_MAC leaves on the cycle the accumulators are valid).
        rounds = 1 + fill + 1 + (lanes - 1) / rate + UNPACK_LAT + beats_per_word - 1
        rounds += (wpr - 1) * stream_round_cycles(lanes, rate, beats_per_word)
        write = math.ceil(ch * lanes / m.options.write_lanes)  # S_WRITE
        per_token = xload + rounds + MAC_LAT + write
        cycles = split.passes * (meta + per_token * tokens)
    cycles += 3  # S_IDLE accept + S_DESC, S_DONE
    read = (s.n * wpr * tokens + meta_words) * WORD_BYTES
    return Cost(cycles, read, 0.0)


def int8_linear_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """An int8 linear (the LM head) on linear_unit's int8 datapath, phase by phase.

    Without double buffering, the RTL's state machine (validated against Verilator:
    test/backend/test_perf_validation.py): per command 3 cycles (accept, S_DESC, S_DONE); per
    pass S_META_CMD, the fill, the pass's slots (`tiling.int8_meta_words_per_pass` words) on the
    misc channel; per pass and token S_XLOAD (k/32) + S_FX (1), S_W_CMD (1), the fill, the first
    word's handshake, then each channel's lanes x words_per_row words, one per
    max(1 / rate, 32 / I8_MACS) cycles (a held word is consumed I8_MACS bytes per cycle,
    `tiling.int8_macs` of the channel's rate), the last word's beats, the product and
    accumulate stages (2), then S_WRITE one lane of every weight channel per cycle.
    """
    eng = m.engine
    split = tiling.split_rows(s.n, eng)
    lanes = eng.lanes_per_channel
    wpr = tiling.int8_words_per_row(s.k)
    words = lanes * wpr  # per channel and token
    beats = 32 // tiling.int8_macs(m.wpc)  # cycles per word on a channel's int8 MACs
    mwp = tiling.int8_meta_words_per_pass(split)
    xload = tiling.ceil_div(s.k, WORD_BYTES) + 1
    write = math.ceil(eng.weight_channels * lanes / m.options.write_lanes)
    if m.options.double_buffer:
        stream = max(words / m.wpc, words * beats)
        per_token = max(xload, stream, write)
        per_pass = max(mwp / m.wpc, per_token * tokens)
        cycles = split.passes * per_pass + 2 * m.fill_cycles() + 2
    else:
        fill = m.fill_cycles()
        rate = min(m.wpc, 1.0)
        meta = 1 + fill + 1 + (mwp - 1) / rate
        stream = 1 + fill + 1 + (words - 1) * max(1 / rate, beats) + beats + 2
        per_token = xload + stream + write
        cycles = split.passes * (meta + per_token * tokens)
    cycles += 3
    read = (s.n * wpr * tokens + tiling.int8_meta_region_words(split)) * WORD_BYTES
    return Cost(cycles, read, 0.0)


def visible(position: int, sink: int, window: int) -> int:
    """Keys a query at 0-based `position` sees under Λ (contract lambda_visible)."""
    return min(position + 1, sink + window)


def _kv_slot_bytes(head_dim: int) -> int:
    return head_dim // 2 + tiling.KV_SCALE_BYTES


def attention_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Λ attention of `tokens` queries at positions position.. position+tokens-1.

    Per query head: QK^T and PV on attn_mac (ceil(head_dim / lanes) beats per key each), the
    softmax row (3N + 52 cycles) on a softmax unit that overlaps the next head's MACs.  K/V of
    the visible slots are read once per tile and KV head (staged on chip, shared by the GQA
    query heads) from the layer's KV channel(s).
    """
    lanes = m.attn_lanes
    beats = math.ceil(s.head_dim / lanes)  # per key and head
    groups = math.ceil(s.heads / max(1, lanes // s.head_dim))  # heads in parallel when wide
    mac = rows = 0.0
    for i in range(position, position + tokens):
        n = visible(i, s.sink, s.window)
        mac += 2 * n * beats + 2 * ATTN_LAT
        rows += 3 * n + SOFTMAX_FIXED
    # The softmax units work on other heads' rows while the MAC runs (one row's fill exposed).
    compute = max(groups * mac, s.heads * rows / m.options.softmax_units)
    compute += min(mac, rows) / max(1, tokens)
    n_tile = visible(position + tokens - 1, s.sink, s.window)
    words = 2 * s.kv_heads * tiling.words_of(n_tile * _kv_slot_bytes(s.head_dim))
    read_time = words / (m.wpc * m.kv_channels())
    return Cost(max(compute, read_time) + m.fill(), words * WORD_BYTES, 0.0)


def kv_append_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """kv_cache_ctrl: one (token, head, K|V) entry per cycle; the KV4 bytes are written."""
    entries = 2 * s.kv_heads * tokens
    nbytes = entries * _kv_slot_bytes(s.head_dim)
    write_time = nbytes / WORD_BYTES / (m.wpc * m.kv_channels())
    return Cost(max(entries, write_time) + m.fill(), 0.0, nbytes)


def vector_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """Row-wise units at their documented rates (docs/rtl_lib.md)."""
    h = s.length / m.options.vector_lanes  # elements per unit copy
    read = 0.0
    if s.kind == "rmsnorm":
        cycles = tokens * (3 * h + RMSNORM_FIXED)
        read = tiling.words_of(2 * s.length) * WORD_BYTES  # gain mantissas, once per tile
    elif s.kind == "rope":
        cycles = tokens * h / 2 + VEC_LAT  # one rotate-half pair per cycle
    elif s.kind in ("silu", "swiglu", "mul"):
        cycles = tokens * h / 2 + VEC_LAT  # silu_unit LANES = 2
    elif s.kind == "requantize":
        # Two passes per row: the per-token max (A8 scale), then the requantizer lanes.
        cycles = tokens * 2 * h / REQUANT_LANES + VEC_LAT
    elif s.kind == "add":
        cycles = tokens * h / REQUANT_LANES + VEC_LAT
    elif s.kind == "embedding":
        words = tiling.int8_words_per_row(s.length + 1)
        read = tokens * words * WORD_BYTES
        cycles = tokens * words / m.wpc + m.fill()
    else:
        raise ValueError(f"no cost for vector kind {s.kind!r}")
    return Cost(cycles, read, 0.0)


def step_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Cost of `s` for a tile of `tokens` tokens starting at absolute `position`."""
    if s.kind == "linear":
        c = linear_cost(s, m, tokens)
    elif s.kind == "attention":
        c = attention_cost(s, m, tokens, position)
    elif s.kind == "kv_append":
        c = kv_append_cost(s, m, tokens)
    else:
        c = vector_cost(s, m, tokens)
    if not m.options.act_onchip and s.kind != "embedding":
        # Inputs read from and results written to HBM around the step (streamed alongside it).
        spill_in, spill_out = s.in_bytes * tokens, s.out_bytes * tokens
        spill_time = (spill_in + spill_out) / WORD_BYTES / (m.wpc * m.spill_channels())
        c = Cost(max(c.cycles, spill_time + m.fill()), c.read + spill_in, c.written + spill_out)
    return c


@dataclass
class ScheduleResult:
    """A schedule's makespan, HBM traffic and per-unit busy cycles."""

    cycles: float
    read: float
    written: float
    busy: dict[str, float]
    by_kind: dict[str, float]


def run_schedule(steps: list[Step], m: Machine, tokens: int, position: int) -> ScheduleResult:
    """Sequencer model: issue in order, units in parallel, barriers / data dependencies wait."""
    issue = 0.0
    unit_free: dict[str, float] = {}
    finish: list[float] = []
    busy: dict[str, float] = {}
    by_kind: dict[str, float] = {}
    read = written = 0.0
    for s in steps:
        if s.barrier:
            issue = max([issue] + [unit_free.get(u, 0.0) for u in s.barrier]) + ISSUE_CYCLES
        c = step_cost(s, m, tokens, position)
        start = max([issue, unit_free.get(s.unit, 0.0)] + [finish[d] for d in s.deps])
        end = start + c.cycles
        finish.append(end)
        unit_free[s.unit] = end
        busy[s.unit] = busy.get(s.unit, 0.0) + c.cycles
        by_kind[s.kind] = by_kind.get(s.kind, 0.0) + c.cycles
        read += c.read
        written += c.written
        issue += ISSUE_CYCLES
    makespan = max([issue] + finish)
    return ScheduleResult(makespan, read, written, busy, by_kind)


def with_options(m: Machine, **changes) -> Machine:
    return replace(m, options=replace(m.options, **changes))
