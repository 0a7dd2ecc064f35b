"""Cycles and HBM bytes of each engine step, and of a whole schedule (units run concurrently).

The per-step costs are the latency/throughput figures of the rtl_lib primitives (docs/rtl_lib.md)
applied to the step's sizes from `backend/tiling.py`; docs/performance.md lists every rule.  The
schedule model is the sequencer's (rtl_lib/sequencer.sv, docs/isa.md): `ISSUE_CYCLES` per
instruction, a dispatch waits for its unit to be idle, a barrier for the units it names; at the
model level (no barriers) a step waits for the steps that produce its inputs.  Validated against
the whole-accelerator simulation: test/backend/test_perf_validation.py.

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
from accllm.backend.target_desc import (
    STREAM_META_FIFO_WORDS,
    WORD_BYTES,
    EngineConfig,
    TargetDesc,
)
from accllm.dialects import accel
from accllm.numerics.contract import NUMERICS

ENCODINGS = ("pattern3", "index2")
ISSUE_CYCLES = 3  # sequencer: fetch, decode, dispatch per instruction (docs/rtl_lib.md)
AXI_ISSUE = 3  # axi_read_master: AR 2 cycles after the command, data 1 cycle after R
UNPACK_LAT, MAC_LAT = 1, 4  # w2_unpacker, sparse_mac_array latencies
ATTN_LAT = 5  # attn_mac latency after the reduction's last beat
SOFTMAX_FIXED = 52  # softmax_unit: one row every 3N + 52 cycles
VEC_LAT = 3  # requantizer / silu_unit / rope_unit pipeline depth
RMSNORM_RSQRT, RMSNORM_OUT_LAT = 10, 3  # rmsnorm_unit: rsqrt on the shared multiplier, output
ROPE_CHUNK = 17  # rope_cmd_unit cycles per chunk of 8 pairs (see vector_cost)
EXP_MAX = 31  # act_exp_max = kv_exp_max: where the exponent searches start
NUMERICS_ACT_QMAX = 127
KV_POS_W = 32  # attention_unit / kv_cache_ctrl POS_W as instantiated
# Assumed log2 of a row's largest |value| (real units) for the data-dependent exponent
# searches: RMSNorm-scale activations (unit RMS, peaks of a few units).
ROW_MAX_LOG2 = 2.0
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


# ---- the stream-fed MAC unit (rtl_lib/stream_linear_unit.sv) --------------------------------

STREAM_LIN_START = 3  # cycles before S_XLOAD: the accept, S_DESC, S_START
STREAM_LIN_MAC_LAT = 4  # tile_mac_array: a beat's row result leaves 4 cycles after stage 0
STREAM_LIN_END = 2  # after the last word write leaves the arbiter: S_RUN -> S_DONE, done


@dataclass(frozen=True)
class StreamUnit:
    """A build of stream_linear_unit: lanes per channel (LANES), MAC blocks per lane (BLOCKS),
    int8 products per lane and beat (P8), stream words per beat (DW / 256), lane weight /
    metadata FIFO depths (WFD, MFD), weight channels (CH)."""

    lanes: int
    channels: int
    blocks: int = 4
    p8: int = 4
    words_per_beat: int = 1
    wfd: int = 4
    mfd: int = 8


def stream_linear_cycles(
    layout: tiling.StreamLayout,
    unit: StreamUnit,
    *,
    k: int,
    group: int,
    tokens: int,
    words_per_cycle: float,
) -> float:
    """Cycles of one descriptor on stream_linear_unit (accepting edge to `done`) when beat i of
    each channel's stream is offered from cycle ceil((i + 1) * words_per_beat / words_per_cycle)
    after the command (the prefetcher streams at the channel's rate; a refused beat stays
    offered) and the unit takes at most one beat per cycle per channel.  Event by event, for one
    channel (every channel in use streams the same layout):

    * start: accept, S_DESC, S_START, the tile load S_XLOAD (tokens x k/32 words), S_FX, S_FXW;
      the router takes beats from S_XLOAD on, the feeder starts in S_RUN;
    * router: a beat enters when offered, after the previous beat, and when every lane FIFO it
      writes has room (a word enters the cycle after the word `wfd` (`mfd`) rounds before it on
      its lane was popped); a round (one word per lane of the pass) is present the cycle after
      the beat holding its last word entered;
    * feeder, per row: one cycle for the row's exponent entry, then per weight round its beats
      (36 / blocks W2, 32 / p8 int8; the row's last word only up to k) x tokens, one per cycle,
      the round popped with its last beat; W2 entries are popped at group ends;
    * results: a row's token-t result leaves the MAC 4 cycles after its last beat; once the
      last token's is taken the writer requantizes one result per cycle (lanes x tokens) while
      the arbiter takes one word write per cycle from all channels; the next row's first result
      stalls the MAC until the writer is free; after the last row the writes drain, S_DONE.
    """
    split = layout.split
    wpb, lanes = unit.words_per_beat, split.lanes
    w2 = layout.precision == "w2"
    bpw = 36 // unit.blocks if w2 else 32 // unit.p8
    row_beats = k // (4 * unit.blocks) if w2 else k // unit.p8
    epw = layout.entries_per_word
    route0 = STREAM_LIN_START  # the first cycle of S_XLOAD
    run0 = route0 + tokens * (k // 32) + 2  # the first cycle of S_RUN

    # The stream's words in order: (kind, round, last word of its round).
    words: list[tuple[str, int, bool]] = []
    nm = nw = 0
    for p in range(split.passes):
        lip = layout.lanes_in_pass(p)
        for kind, count in (("m", layout.meta_words(p)), ("w", layout.words_per_row)):
            for _ in range(count):
                idx = nm if kind == "m" else nw
                words += [(kind, idx, lane == lip - 1) for lane in range(lip)]
                if kind == "m":
                    nm += 1
                else:
                    nw += 1
    ready: dict[str, list[float]] = {"m": [], "w": []}
    pop: dict[str, list[float]] = {"m": [], "w": []}
    depth = {"m": unit.mfd, "w": unit.wfd}
    router = {"beat": 0, "last": route0 - 1}

    def route_until(kind: str, idx: int) -> None:
        while len(ready[kind]) <= idx:
            b = router["beat"]
            chunk = words[b * wpb : (b + 1) * wpb]
            t = max(math.ceil((b + 1) * wpb / words_per_cycle - 1e-9), router["last"] + 1)
            for kd, i, _ in chunk:
                if i >= depth[kd]:
                    t = max(t, pop[kd][i - depth[kd]] + 1)
            router["beat"], router["last"] = b + 1, t
            for kd, _, last in chunk:
                if last:
                    ready[kd].append(t + 1)

    gb = group // (4 * unit.blocks) if w2 else 1
    # Word writes of one row's results per channel (8 lanes a word, lanes x tokens results);
    # the arbiter serves every channel in use, one word per cycle.
    out_words = tokens * tiling.ceil_div(lanes + 7, 8)
    writer = max(lanes * tokens, split.channels_used * out_words)
    cur = float(run0)
    writer_free = 0.0
    e = 0  # next metadata entry
    for p in range(split.passes):
        route_until("m", e // epw)
        cur = max(cur, ready["m"][e // epw])
        if (e + 1) % epw == 0:
            pop["m"].append(cur)
        e += 1
        cur += 1  # the exponent cycle
        rb = 0
        for w in range(layout.words_per_row):
            j = p * layout.words_per_row + w
            route_until("w", j)
            cur = max(cur, ready["w"][j])
            nb = min(bpw, row_beats - rb)
            for b in range(rb, rb + nb):
                if w2 and ((b + 1) % gb == 0 or b + 1 == row_beats):
                    if (e + 1) % epw == 0:
                        pop["m"].append(cur + (b - rb + 1) * tokens - 1)
                    e += 1
            if rb + nb == row_beats:
                # The row's first result (token 0 of its last beat) waits for the writer.
                first_out = cur + (nb - 1) * tokens + STREAM_LIN_MAC_LAT
                cur += max(0.0, writer_free - first_out)
            cur += nb * tokens
            pop["w"].append(cur - 1)
            rb += nb
        # The last token's result is taken at cur - 1 + 4, the writer busy from the next cycle.
        writer_free = cur + STREAM_LIN_MAC_LAT + writer
    return writer_free + 1 + STREAM_LIN_END


def stream_linear_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """A linear on stream_linear_unit as `derive_engine` sizes it (`stream_*` fields: every
    channel streams, `stream_lanes` lanes, `stream_words_per_beat`), each channel's stream at
    the channel's words per cycle from the command's start (`stream_linear_cycles`); bytes: the
    stream layout's beats on every channel in use. `tokens` is one GEMM tile (at most
    `stream_tile_tokens`); the caller splits longer prompts into tiles."""
    eng = m.engine
    if not 1 <= tokens <= eng.stream_tile_tokens:
        raise ValueError(
            f"tokens={tokens}: the stream unit's tile holds 1..{eng.stream_tile_tokens}"
        )
    lanes, wpb = eng.stream_lanes, eng.stream_words_per_beat
    per = tiling.ceil_div(s.n, eng.stream_channels)
    split = tiling.RowSplit(per, tiling.ceil_div(s.n, per), tiling.ceil_div(per, lanes), lanes)
    group = s.group if s.precision == "w2" else s.k
    layout = tiling.stream_layout(s.n, s.k, group, s.precision, split, wpb)
    unit = StreamUnit(
        lanes=lanes,
        channels=eng.stream_channels,
        blocks=eng.mac_blocks,
        words_per_beat=wpb,
        mfd=STREAM_META_FIFO_WORDS,
    )
    cycles = stream_linear_cycles(
        layout, unit, k=s.k, group=group, tokens=tokens, words_per_cycle=m.wpc
    )
    return Cost(cycles, layout.beats * wpb * WORD_BYTES * split.channels_used, 0.0)


def visible(position: int, sink: int, window: int) -> int:
    """Keys a query at 0-based `position` sees under Λ (contract lambda_visible)."""
    return min(position + 1, sink + window)


def _kv_slot_bytes(head_dim: int) -> int:
    return head_dim // 2 + tiling.KV_SCALE_BYTES


def a8_search_cycles(row_max_log2: float = ROW_MAX_LOG2) -> int:
    """Exponent search of an A8 row (vector_unit / attention_unit S_SEARCH): candidates from
    act_exp_max = 31 down, one per cycle, to the largest f with max|x| * 2^f <= 127."""
    f = math.floor(math.log2(NUMERICS_ACT_QMAX) - row_max_log2)
    return EXP_MAX - f + 1


def kv4_search_cycles(row_max_log2: float = ROW_MAX_LOG2) -> int:
    """Exponent search of a KV4 row (attention_unit S_SEARCH): from kv_exp_max = 31 down to
    the largest e with (hi - lo) * 2^e <= 15; a row's range is taken as 2 max|x|."""
    e = math.floor(math.log2(15) - (row_max_log2 + 1))
    return EXP_MAX - e + 1


def kv_mod_steps(window: int) -> int:
    """kv_cache_ctrl's mod_const: NSTEP = POS_W - ceil(log2 W) + 1 restoring steps."""
    return KV_POS_W - math.ceil(math.log2(window)) + 1


def _append_row_cycles(hd: int) -> int:
    """One token's K and V rows of one KV head in attention_unit: per row S_LOAD (hd/8 words),
    S_LOADW, S_SEARCH (KV4 exponent), S_CODES (hd/8); then S_WR and S_WRW (kv_cache_ctrl
    write, latency 1: positions in order)."""
    w = hd // 8
    return 2 * (w + 1 + kv4_search_cycles() + w) + 2


def _attend_head_cycles(hd: int, n: int, window_full: bool, window: int) -> int:
    """One query head of one token in attention_unit, phase by phase."""
    w = hd // 8
    load = w + 1 + a8_search_cycles()  # S_LOAD, S_LOADW, S_SEARCH (A8 exponent of q)
    # S_QUERY, S_LIST: kv_cache_ctrl's first entry 1 cycle after the query (NSTEP + 2 once the
    # window is full: the mod), then one entry per cycle.
    lst = 1 + (kv_mod_steps(window) + 2 if window_full else 1) + n - 1
    qk = n * (1 + w)  # S_QK_RD (read bubble) + hd/8 S_QK_BEAT per key
    # S_SM: the last logit leaves attn_mac (ATTN_LAT) and the 1-lane requantizer (VEC_LAT),
    # softmax_unit's first probability N + 53 cycles later, then N probabilities.
    sm = ATTN_LAT + VEC_LAT + n + SOFTMAX_FIXED + 1 + n
    pv = w * (2 * n + ATTN_LAT)  # per 8 dims: S_PV_RD + S_PV_BEAT per key, S_PV_WAIT
    return load + lst + qk + sm + pv


def attention_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Λ attention of `tokens` queries at positions position.. position+tokens-1.

    Default machine (attn_lanes = the engine's, one softmax unit): attention_unit's state
    machine (docs/rtl_lib.md), one KV head / query head at a time: per command S_IDLE, S_DESC,
    S_DONE; per token S_TOK, S_NEXT; a prefill (tokens > 1) is append-then-attend per token
    (`_append_row_cycles` per KV head), then per query head `_attend_head_cycles`.  The
    exponent searches are data dependent: `ROW_MAX_LOG2` is the assumed row magnitude.

    What-if (wider attn_mac / more softmax units): per query head QK^T and PV on attn_mac
    (ceil(head_dim / lanes) beats per key each), the softmax row (3N + 52 cycles) on a softmax
    unit that overlaps the next head's MACs.  K/V of the visible slots are read once per tile
    and KV head from the layer's KV channel(s).
    """
    n_tile = visible(position + tokens - 1, s.sink, s.window)
    words = 2 * s.kv_heads * tiling.words_of(n_tile * _kv_slot_bytes(s.head_dim))
    read_time = words / (m.wpc * m.kv_channels())
    if not m.options.attn_lanes and m.options.softmax_units == 1:
        cycles = 3
        for i in range(position, position + tokens):
            n = visible(i, s.sink, s.window)
            cycles += 2
            if tokens > 1:
                cycles += s.kv_heads * _append_row_cycles(s.head_dim)
            full = i >= s.sink + s.window
            cycles += s.heads * _attend_head_cycles(s.head_dim, n, full, s.window)
        return Cost(cycles, words * WORD_BYTES, 0.0)
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
    return Cost(max(compute, read_time) + m.fill(), words * WORD_BYTES, 0.0)


def kv_append_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """attention_unit's append (unit kv): S_IDLE, S_DESC, S_DONE; per token S_TOK, S_NEXT and
    per KV head `_append_row_cycles`.  The KV4 bytes are written (HBM what-if)."""
    entries = 2 * s.kv_heads * tokens
    nbytes = entries * _kv_slot_bytes(s.head_dim)
    cycles = 3 + tokens * (2 + s.kv_heads * _append_row_cycles(s.head_dim))
    if m.options.striping:  # a what-if: the HBM KV path's write rate
        cycles = max(cycles, nbytes / WORD_BYTES / (m.wpc * m.kv_channels()) + m.fill())
    return Cost(cycles, 0.0, nbytes)


def vector_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """Row-wise units, state machine by state machine (docs/rtl_lib.md); every command pays
    S_IDLE, S_DESC, S_DONE (3 cycles).  `vector_lanes` > 1 divides the per-token work."""
    lanes = m.options.vector_lanes
    h = s.length
    r = tiling.ceil_div(h, 8)  # Q15.16 row words (8 values per 256-bit word)
    read = 0.0
    if s.kind == "rmsnorm":
        # norm_unit: S_GCMD + the gain table fetched once per command (fill + words at the
        # misc channel's rate); per token S_XRD + S_XCAP + 8 S_FEED beats per word (10), then
        # rmsnorm_unit's sum of squares (H + 2) and rsqrt (10) after the last beat, its output
        # pipeline (3), then 8 S_OUT + S_OWR per word (9).
        gwords = tiling.words_of(2 * h)
        gain = 1 + m.fill_cycles() + gwords / min(m.wpc, 1.0)
        row = 10 * r + (h + 2) + RMSNORM_RSQRT + RMSNORM_OUT_LAT + 9 * r
        cycles = 3 + gain + tokens * row / lanes
        read = gwords * WORD_BYTES
    elif s.kind == "rope":
        # rope_cmd_unit: per token and chunk of 8 pairs (16 values): S_R1, S_R2, S_C2, 8
        # S_FEED beats, S_WAIT for rope_unit's 3 stages, S_W1, S_W2 = 17 cycles.
        cycles = 3 + tokens * (h // 16) * ROPE_CHUNK / lanes
    elif s.kind == "swiglu":
        # vector_unit swiglu: per word S_RDX, S_RDY, S_CAPY, S_SILU_IN, silu_unit's 3 stages
        # (S_SILU_OUT), S_WR = 8 cycles.
        cycles = 3 + tokens * r * (5 + VEC_LAT) / lanes
    elif s.kind in ("silu", "mul"):
        cycles = 3 + tokens * r * (5 + VEC_LAT) / lanes  # as swiglu (no RTL op of its own)
    elif s.kind == "requantize":
        # vector_unit requantize: per token S_LOAD (R words) + S_LOADW, S_SEARCH (A8 exponent),
        # S_QRD + S_QWR per word (2R), S_FXRD + S_FXWR.
        cycles = 3 + tokens * (3 * r + 3 + a8_search_cycles()) / lanes
    elif s.kind == "add":
        cycles = 3 + tokens * r * 3 / lanes  # vector_unit add: S_RDX, S_RDY, S_WR per word
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


# Sequencer units sharing one engine instance (one command at a time, cmd_ready only in S_IDLE).
SHARED_UNITS = accel.UNIT_INSTANCE


def run_schedule(steps: list[Step], m: Machine, tokens: int, position: int) -> ScheduleResult:
    """The sequencer (rtl_lib/sequencer.sv), instruction by instruction.

    Every instruction takes S_FETCH, S_WAIT and S_EXEC (`ISSUE_CYCLES`).  A DISPATCH retires
    in the S_EXEC cycle its unit accepts: units accept only when idle (vector_unit serves vec
    and act, attention_unit attn and kv), so a dispatch to a busy unit stalls the sequencer.
    A BARRIER retires once the units it names have completed; HALT once every unit has.  At the
    model level (no barriers) a step also waits for the steps producing its inputs.
    """
    t = 0.0  # cycle of the next instruction's S_FETCH
    unit_free: dict[str, float] = {}  # cycle a physical unit is back in S_IDLE
    finish: list[float] = []
    busy: dict[str, float] = {}
    by_kind: dict[str, float] = {}
    read = written = 0.0
    for s in steps:
        if s.barrier:
            phys = {SHARED_UNITS.get(u, u) for u in s.barrier}
            t = max([t + ISSUE_CYCLES - 1] + [unit_free.get(u, 0.0) for u in phys]) + 1
        c = step_cost(s, m, tokens, position)
        unit = SHARED_UNITS.get(s.unit, s.unit)
        start = max([t + ISSUE_CYCLES - 1, unit_free.get(unit, 0.0)] + [finish[d] for d in s.deps])
        end = start + c.cycles
        finish.append(end)
        unit_free[unit] = end
        busy[s.unit] = busy.get(s.unit, 0.0) + c.cycles
        by_kind[s.kind] = by_kind.get(s.kind, 0.0) + c.cycles
        read += c.read
        written += c.written
        t = start + 1
    makespan = max([t + ISSUE_CYCLES - 1] + finish)  # HALT
    return ScheduleResult(makespan, read, written, busy, by_kind)


def with_options(m: Machine, **changes) -> Machine:
    return replace(m, options=replace(m.options, **changes))


# ---- stream_attention_unit (KV cache in HBM; rtl_lib/stream_attention_unit.sv) -----------------
from accllm.rtl_lib import fetch_isa  # noqa: E402  (the RING rule of the prefetcher)

SA_EXPU = 4  # stream_attn_pipe EXPU: exp units per pipeline
SA_DIV_STEPS = 48  # the reciprocal's restoring divider (runs while the V scales stream in)
SA_K_DRAIN, SA_EXP_DRAIN, SA_V_DRAIN = 4, 2, 3  # pipeline drains after QK, e/Z, PV


@dataclass(frozen=True)
class StreamAttnGeometry:
    """What the stream attention unit's cycles depend on besides the command: pipelines (KV
    channels), head_dim, the stream beat width and the Λ shape. `write_latency`: cycles from a
    KV write's last data beat to its write response (the write master's busy falling)."""

    pipes: int
    head_dim: int
    dw: int
    sink: int
    window: int
    write_latency: int = 8
    pos_w: int = KV_POS_W

    @property
    def code_bytes(self) -> int:
        return self.head_dim // 2

    @property
    def beat_bytes(self) -> int:
        return self.dw // 8

    @property
    def beats_per_slot(self) -> int:
        return max(1, self.code_bytes // self.beat_bytes)

    def ring_beats(self, cached: int, slot_bytes: int) -> int:
        """Beats of one RING entry of the fetch program over `cached` filled slots."""
        return fetch_isa.ring_beats(cached, self.sink + self.window, slot_bytes, self.dw)


def stream_attn_pipe_cycles(g: StreamAttnGeometry, rep: int, cached: int, t: int) -> int:
    """One run of stream_attn_pipe (start to busy low) for chunk token t (t + 1 bypass entries)
    over min(cached, S + W) streamed slots, the stream never empty: P_KS (a beat per cycle,
    then 1), P_K (the first beat 1 cycle; per slot rep cycles + beats_per_slot - 1 to gather
    the next slot; per bypass entry rep), the QK drain, P_EXP (ceil(N / EXPU) per head), its
    drain, P_VS (the scale beats or the 48-step divider, whichever is longer, then 1), P_V like
    P_K, the PV drain and P_DONE."""
    nc = min(cached, g.sink + g.window)
    n = nc + t + 1
    scale = g.ring_beats(cached, tiling.KV_SCALE_BYTES)
    codes = (1 if nc else 0) + nc * (rep + g.beats_per_slot - 1) + (t + 1) * rep
    exp = rep * tiling.ceil_div(n, SA_EXPU)
    return (
        (scale + 1)
        + codes
        + SA_K_DRAIN
        + exp
        + SA_EXP_DRAIN
        + (max(scale, SA_DIV_STEPS) + 1)
        + codes
        + SA_V_DRAIN
        + 1
    )


def stream_attention_cycles(
    g: StreamAttnGeometry,
    heads: int,
    kv_heads: int,
    tokens: int,
    cached: int,
    attend: bool = True,
) -> int:
    """One StreamAttnDescriptor command on stream_attention_unit, from acceptance to done,
    following its state machine (docs/performance.md): S_DESC, S_POS, the Λ-slot remainder
    (mod_const: POS_W - ceil(log2 W) + 1 steps). The loader takes a row (K, V or a query head)
    in S_TOK, hd/8 loads, S_LDW, S_EXP (hd/8 + 3 cycles, one activation port) and hands it to
    the coder, which quantizes CW = min(4, hd/8) words per cycle (hd/(8 CW) cycles) while the
    next row loads; the coder stages a V entry and starts a pipeline after its last query row.
    Attend: per token and round of `pipes` KV heads, each pipeline's K, V and rep query rows;
    S_WAITC for the coder; the outputs (rep x hd/8 words per pipeline) are written once each
    pipeline is done, in pipeline order; S_ANEXT. Append only: per token and KV head the K and
    V rows, S_WAITC. Write-back: per token and ring (PIPES KV heads, every pipeline's write port
    in lockstep) 4 writes (S_WCMD, the beats, S_WNEXT); S_WFIN waits 2 cycles and for the last
    write response; S_DONE."""
    rep = heads // kv_heads
    ch = g.head_dim // 8
    row = ch + 3
    ncode = ch // min(4, ch)
    mod_steps = g.pos_w - math.ceil(math.log2(g.window)) + 1
    cycles = 2 + mod_steps
    if attend:
        load = (2 + rep) * row  # one pipeline's K, V and query rows
        for t in range(tokens):
            for first in range(0, kv_heads, g.pipes):
                used = min(g.pipes, kv_heads - first)
                run = stream_attn_pipe_cycles(g, rep, cached, t)
                clock = used * load + ncode + 1  # S_OWAIT of pipeline 0 starts here
                for p in range(used):
                    # pipeline p runs from the coder's last cycle of its last row; S_OWAIT
                    # leaves the cycle its busy has fallen, then S_OWR
                    clock = max(clock, (p + 1) * load + ncode + run) + 1 + rep * ch
                cycles += clock + 1  # S_ANEXT
    else:
        cycles += tokens * kv_heads * 2 * row + ncode + 1
    per_ring = 2 * (1 + g.beats_per_slot + 1) + 2 * (1 + 1 + 1)  # every pipeline at once
    cycles += tokens * tiling.ceil_div(kv_heads, g.pipes) * per_ring
    cycles += 2 + max(0, g.write_latency - 2)  # S_WFIN: settle, then the last response
    # S_DONE, the registered done pulse and the cycle that accepted the command
    return cycles + 3


def stream_attention_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Cycles and HBM bytes of an attention step on stream_attention_unit (append + attend of
    `tokens` tokens after `position` cached ones): the unit's cycles with the stream keeping up
    (the schedule model adds the prefetch), the ring bytes every pipeline reads per token and KV
    head, and the KV4 bytes written back."""
    g = StreamAttnGeometry(
        pipes=m.engine.channels,
        head_dim=s.head_dim,
        dw=m.target.hbm.axi_data_bits,
        sink=s.sink,
        window=s.window,
        write_latency=m.target.hbm.latency_cycles + AXI_ISSUE,
    )
    cycles = stream_attention_cycles(g, s.heads, s.kv_heads, tokens, position)
    beats = 2 * (
        g.ring_beats(position, tiling.KV_SCALE_BYTES) + g.ring_beats(position, g.code_bytes)
    )
    read = tokens * s.kv_heads * beats * g.beat_bytes
    written = 2 * tokens * s.kv_heads * (g.code_bytes + tiling.KV_SCALE_BYTES)
    return Cost(cycles, read, written)
