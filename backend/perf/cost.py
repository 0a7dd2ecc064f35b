"""Cycles and HBM bytes of each engine step, and of a whole program: the emitted stream engine.

The engine is decoupled access / execute (docs/engine.md): every HBM channel's
`stream_prefetcher` walks the program's fetch program (`backend/fetch_program.py`) from the
program's start into a FIFO of `fifo_beats` beats, and the stream units pop the words in program
order.  A unit command is priced by its unit's rule with the data present (`Command.cycles`)
plus
the stream: `backend/perf/stream.StreamState` follows each channel's FIFO through the program
(started at the program start, the target's latency, the channel's rate, the FIFO's capacity),
and a command that needs `D` beats of a channel ends no earlier than the stream delivers its
last beat plus the unit's work after that beat (`Command.tail`).

* `accel.linear`: `stream_linear_unit` (`stream_linear_cycles`, validated against Verilator),
  one command per GEMM tile (`tiling.linear_tiles`), each streaming the linear's channel layout
  (`tiling.linear_stream_layout`) on the channels its regions are on;
* `accel.attention` (decode: one fused append + attend command; a prefill chunk: one command of
  its tokens): `stream_attention_unit` (`stream_attention_cycles`, cycle-exact against
  Verilator), its RING reads (`tiling.kv_stream_rings`) on channel `kv_channel(head)`;
* vector steps: norm_unit, vector_unit, rope_cmd_unit, embedding_unit (their state machines);
* the program: the sequencer (`run_schedule`, rtl_lib/sequencer.sv).

Every rule is of RTL the compiler emits; there are no what-if options (docs/performance.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from accllm.backend import tiling
from accllm.backend.perf.stream import ChannelStream, StreamState
from accllm.backend.perf.workload import Step
from accllm.backend.target_desc import (
    STREAM_META_FIFO_WORDS,
    WORD_BYTES,
    EngineConfig,
    TargetDesc,
)
from accllm.dialects import accel
from accllm.rtl_lib import fetch_isa

ISSUE_CYCLES = 3  # sequencer: fetch, decode, dispatch per instruction (docs/rtl_lib.md)
AXI_ISSUE = 3  # axi_read_master: AR 2 cycles after the command, data 1 cycle after R
# stream_prefetcher from `start` to a beat at the unit, besides the HBM latency: the fetch ROM
# read (1), the entry to its first command (3), the read master's burst (2), the FIFO and the
# demux (2).
PREFETCH_ISSUE = 8
# rmsnorm_unit: the sum-of-squares pass's drain (squares, adder tree, the phase change), the
# rsqrt (v, mant, ROM seed, 2 Newton steps on the shared multiplier), the output pipeline
RMSNORM_SUM_LAT, RMSNORM_RSQRT, RMSNORM_OUT_LAT = 3, 10, 3
ROPE_ROUND = 4  # rope_cmd_unit cycles per chunk of 8 pairs: 2 reads + 2 writes (rope_cycles)
EXP_MAX = 31  # act_exp_max: where the A8 exponent search starts
NUMERICS_ACT_QMAX = 127
KV_POS_W = 32  # stream_attention_unit POS_W as instantiated
# Assumed log2 of a row's largest |value| (real units) for the data-dependent A8 exponent
# search of vector_unit's requantize: RMSNorm-scale activations (unit RMS, peaks of a few units).
ROW_MAX_LOG2 = 2.0


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
    """Target + engine: everything a step's cost depends on besides the step."""

    target: TargetDesc
    engine: EngineConfig

    @property
    def wpc(self) -> float:
        """Stream words (256 bits) per cycle of one HBM channel."""
        return self.engine.words_per_cycle

    @property
    def dw(self) -> int:
        """Stream beat width (bits): the AXI width of the prefetchers and the stream ports."""
        return self.engine.words_per_beat * tiling.WORD_BITS

    @property
    def beat_rate(self) -> float:
        """Beats per cycle one channel's prefetcher delivers."""
        return self.wpc / self.engine.words_per_beat

    def kv_pipes(self, kv_heads: int) -> int:
        """stream_attention_unit pipelines = channels of a layer's KV region: min(kv_channels,
        KV heads) (lower-to-accel's rule), KV head h on channel kv_channel(h, pipes)."""
        return max(1, min(self.engine.kv_channels, kv_heads))

    def fill_cycles(self) -> int:
        """Cycles from a read command to its first word (axi_read_master + HBM latency): the
        table port's reads (norm gains, embedding rows)."""
        return self.target.hbm.latency_cycles + AXI_ISSUE

    def prefetch_latency(self) -> int:
        """Cycles from the program's start to the first beat of a channel's stream at a unit."""
        return self.target.hbm.latency_cycles + PREFETCH_ISSUE

    def channel_streams(self) -> dict[int, ChannelStream]:
        s = ChannelStream(self.beat_rate, self.prefetch_latency(), self.engine.fifo_beats)
        return dict.fromkeys(range(self.engine.channels), s)


@dataclass
class Command:
    """One unit command: `cycles` from its acceptance to `done` when its stream data is already
    in the FIFOs, `demand[c]` beats it pops from channel c, `tail` the cycles it still needs
    after its last beat has arrived, and the HBM bytes it reads / writes."""

    cycles: float
    demand: dict[int, float] = field(default_factory=dict)
    tail: float = 0.0
    read: float = 0.0
    written: float = 0.0
    # The unit's cycles given the binding channel's FIFO at the command: (beats held, cycles
    # from the command until the rest streams in) -> cycles; None: `cycles` and `tail`.
    timed: Callable[[float, float], float] | None = None


# ---- stream_linear_unit (rtl_lib/stream_linear_unit.sv) ---------------------------------------

STREAM_LIN_START = 3  # cycles before S_XLOAD: the accept, S_DESC, S_START
STREAM_LIN_MAC_LAT = 4  # tile_mac_array: a beat's row result leaves 4 cycles after stage 0
STREAM_LIN_END = 2  # after the last word write leaves the arbiter: S_RUN -> S_DONE, done
STREAM_LIN_WRF = 4  # words of a channel's write FIFO (stream_linear_unit u_wr lane_fifo DEPTH)


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
    held: int = 0,
    offset: int = 0,
) -> float:
    """Cycles of one descriptor on stream_linear_unit (accepting edge to `done`) when beat i of
    each channel's stream is offered from cycle ceil((i + 1) * words_per_beat / words_per_cycle)
    after the command (the prefetcher streams at the channel's rate; a refused beat stays
    offered) and the unit takes at most one beat per cycle per channel.  In a program the
    prefetch FIFO may already hold `held` beats at the command (offered at once) and the rest
    stream from cycle `offset` on: beat i >= held from offset + ceil((i - held + 1) *
    words_per_beat / words_per_cycle).  Event by event, for one
    channel (every channel in use streams the same layout):

    * start: accept, S_DESC, S_START, the tile load S_XLOAD (tokens x k/32 words), S_FX, S_FXW;
      the router takes beats from S_XLOAD on, the feeder starts in S_RUN;
    * router: a beat enters when offered, after the previous beat, and when every lane FIFO it
      writes has room (a word enters the cycle after the word `wfd` (`mfd`) rounds before it on
      its lane was popped); a round (one word per lane of the pass) is present the cycle after
      the beat holding its last word entered;
    * feeder, per row: one cycle per lead entry (the exponent; a biased row's two bias entries
      after it, `layout.lead_entries`), then per weight round its beats
      (36 / blocks W2, 32 / p8 int8; the row's last word only up to k) x tokens, one per cycle,
      the round popped with its last beat; W2 entries are popped at group ends;
    * results: a row's token-t result leaves the MAC 4 cycles after its last beat; once the
      last token's is taken the writer requantizes one result per cycle (lanes x tokens) into
      word writes, pushed into the channel's write FIFO (`WRF` words); the arbiter pops one
      word per cycle from all channels (a row's words of every channel in use, after the
      previous row's), so a writer with more words than its FIFO holds waits for the arbiter;
      the next row's first result stalls the MAC until the writer is free; after the last row
      the writes drain, S_DONE.
    """
    split = layout.split
    wpb, lanes = unit.words_per_beat, split.lanes
    w2 = layout.precision == "w2"
    k = tiling.stream_k(k)  # the unit runs rows over whole activation words (an int8 k of 80)
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
            offered = (
                0 if b < held else offset + math.ceil((b - held + 1) * wpb / words_per_cycle - 1e-9)
            )
            t = max(offered, router["last"] + 1)
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
    arb_words = split.channels_used * out_words
    cur = float(run0)
    writer_free = arb_free = 0.0
    e = 0  # next metadata entry
    for p in range(split.passes):
        for _ in range(layout.lead_entries):  # one cycle each: the exponent, the bias halves
            route_until("m", e // epw)
            cur = max(cur, ready["m"][e // epw])
            if (e + 1) % epw == 0:
                pop["m"].append(cur)
            e += 1
            cur += 1
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
        # The last token's result is taken at cur - 1 + 4, the writer busy from the next cycle;
        # its FIFO takes WRF words, the rest as the arbiter pops (every channel in turn).
        w0 = cur + STREAM_LIN_MAC_LAT
        arb_start = max(arb_free, w0)
        arb_free = arb_start + arb_words
        spill = split.channels_used * max(0, out_words - STREAM_LIN_WRF)
        writer_free = max(w0 + lanes * tokens, arb_start + spill)
    return max(writer_free, arb_free) + 1 + STREAM_LIN_END


_stream_linear_cycles = functools.lru_cache(maxsize=4096)(stream_linear_cycles)


def stream_unit(m: Machine) -> StreamUnit:
    """The stream_linear_unit build of the engine."""
    eng = m.engine
    return StreamUnit(
        lanes=eng.lanes_per_channel,
        channels=eng.weight_channels,
        blocks=eng.mac_blocks,
        words_per_beat=eng.words_per_beat,
        mfd=STREAM_META_FIFO_WORDS,
    )


def linear_group(s: Step) -> int:
    """The W2 group of a linear (a float IR's assumed group at most K); int8: one per row."""
    return min(s.group, s.k) if s.precision == "w2" else s.k


def linear_layout(s: Step, m: Machine) -> tiling.StreamLayout:
    """The channel stream of a linear: its `rows_per_channel` (the accel.linear property, or
    at the model level `tiling.split_rows`, the lowering's rule) on the engine's lanes."""
    eng = m.engine
    rpc = s.rows_per_channel or tiling.split_rows(s.n, eng).rows_per_channel
    return tiling.linear_stream_layout(
        s.n, s.k, linear_group(s), s.precision, rpc, eng.lanes_per_channel, eng.words_per_beat,
        s.bias,
    )  # fmt: skip


def linear_channels(s: Step, layout: tiling.StreamLayout) -> tuple[int, ...]:
    """Channels the linear streams from: its regions' (hardware level) or, at the model level,
    the lowering's (channel c holds rows [c * rows_per_channel, ...))."""
    return s.channels or tuple(range(layout.split.channels_used))


def linear_commands(s: Step, m: Machine, tokens: int) -> list[Command]:
    """One stream_linear_unit command per GEMM tile (`tiling.linear_tiles`, as accel-to-hw
    dispatches them and the fetch program streams them): each pops the channel layout's beats
    on every channel of the linear.  `cycles`: the unit's rule with every beat present;
    `timed`: the rule with the beats the FIFO holds at the command offered at once and the
    rest at the channel's rate from when the stream delivers them."""
    eng = m.engine
    layout = linear_layout(s, m)
    channels = linear_channels(s, layout)
    unit = stream_unit(m)
    wpb = eng.words_per_beat
    group = linear_group(s)
    nbytes = layout.beats * wpb * WORD_BYTES * len(channels)
    out = []
    for _, t in tiling.linear_tiles(tokens, eng.tile_tokens):
        kw = dict(k=s.k, group=group, tokens=t)
        present = _stream_linear_cycles(layout, unit, words_per_cycle=math.inf, **kw)

        def timed(held: float, offset: float, kw=kw) -> float:
            h = min(layout.beats, math.floor(held + 1e-6))
            o = 0 if h >= layout.beats else max(0, math.ceil(offset - 1e-6))
            return _stream_linear_cycles(
                layout, unit, words_per_cycle=m.wpc, held=h, offset=o, **kw
            )

        demand = dict.fromkeys(channels, float(layout.beats))
        out.append(Command(present, demand, 0.0, nbytes, timed=timed))
    return out


def stream_linear_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """One command of stream_linear_unit on its own, each channel streaming from the command's
    start at the channel's rate (the unit rule: `stream_linear_cycles`, no prefetch), and the
    bytes it streams.  `tokens` is one GEMM tile (at most the engine's `tile_tokens`)."""
    eng = m.engine
    if not 1 <= tokens <= eng.tile_tokens:
        raise ValueError(f"tokens={tokens}: the stream unit's tile holds 1..{eng.tile_tokens}")
    layout = linear_layout(s, m)
    cycles = _stream_linear_cycles(
        layout, stream_unit(m), k=s.k, group=linear_group(s), tokens=tokens, words_per_cycle=m.wpc
    )
    nbytes = layout.beats * eng.words_per_beat * WORD_BYTES * len(linear_channels(s, layout))
    return Cost(cycles, nbytes, 0.0)


# ---- stream_attention_unit (KV rings in HBM; rtl_lib/stream_attention_unit.sv) ---------------

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


def stream_attention_tail(g: StreamAttnGeometry, heads: int, kv_heads: int, tokens: int) -> int:
    """Cycles of a command after its last ring beat arrives, when the stream is the bound: the
    last pipeline's last slot and bypass entries, its PV drain and done, the outputs of the
    round's pipelines, S_ANEXT, the write-back of every token, S_WFIN and S_DONE."""
    rep = heads // kv_heads
    used = kv_heads - (tiling.ceil_div(kv_heads, g.pipes) - 1) * g.pipes
    outputs = used * (1 + rep * (g.head_dim // 8))
    per_ring = 2 * (1 + g.beats_per_slot + 1) + 2 * (1 + 1 + 1)
    wb = tokens * tiling.ceil_div(kv_heads, g.pipes) * per_ring
    return rep * tokens + SA_V_DRAIN + 1 + outputs + 1 + wb + 2 + max(0, g.write_latency - 2) + 3


def attention_geometry(s: Step, m: Machine) -> StreamAttnGeometry:
    return StreamAttnGeometry(
        pipes=m.kv_pipes(s.kv_heads),
        head_dim=s.head_dim,
        dw=m.dw,
        sink=s.sink,
        window=s.window,
        write_latency=m.target.hbm.latency_cycles + AXI_ISSUE,
    )


def attention_demand(s: Step, m: Machine, tokens: int, position: int) -> dict[int, float]:
    """Beats each KV channel streams for one command of `tokens` tokens after `position` cached
    ones: the fetch program's RING entries (`tiling.kv_stream_rings`: per token and KV head of
    the channel, K scales, K codes, V scales, V codes), each read for min(pos, capacity) slots
    (`fetch_isa.ring_beats`)."""
    ring = tiling.kv_ring(s.head_dim, s.sink, s.window)
    pipes = m.kv_pipes(s.kv_heads)
    out: dict[int, float] = {}
    for c in range(pipes):
        entries = tiling.kv_stream_rings(0, s.kv_heads, tokens, c, pipes, ring)
        beats = sum(fetch_isa.ring_beats(position, cap, sb, m.dw) for _, sb, cap in entries)
        if beats:
            out[c] = float(beats)
    return out


def attention_command(
    s: Step, m: Machine, tokens: int, position: int, attend: bool = True
) -> Command:
    """One stream_attention_unit command: append + attend of `tokens` tokens after `position`
    cached ones (a decode step, or a prefill chunk), or (`attend` false) an append alone; its
    ring reads and the KV4 bytes it writes back."""
    g = attention_geometry(s, m)
    cycles = stream_attention_cycles(g, s.heads, s.kv_heads, tokens, position, attend)
    demand = attention_demand(s, m, tokens, position) if attend else {}
    read = sum(demand.values()) * g.beat_bytes
    written = 2 * tokens * s.kv_heads * (g.code_bytes + tiling.KV_SCALE_BYTES)
    tail = stream_attention_tail(g, s.heads, s.kv_heads, tokens) if demand else 0
    return Command(cycles, demand, min(tail, cycles), read, written)


def stream_attention_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Cycles (the stream keeping up) and HBM bytes of one attention command."""
    c = attention_command(s, m, tokens, position)
    return Cost(c.cycles, c.read, c.written)


# ---- row units --------------------------------------------------------------------------------


def a8_search_cycles(max_bits: int, f: int) -> int:
    """vector_unit's S_SEARCH for a row whose max(max x, -min x) has bit length `max_bits` and
    whose A8 exponent is `f`: one candidate per cycle from 24 - max_bits (31 for an all-zero
    row) down to f."""
    start = EXP_MAX if max_bits == 0 else 24 - max_bits
    return start - f + 1


def assumed_a8_search_cycles(row_max_log2: float = ROW_MAX_LOG2) -> int:
    """a8_search_cycles of a row whose largest |value| is 2^row_max_log2 (real units): the
    estimator's assumption, the search being data dependent."""
    f = math.floor(math.log2(NUMERICS_ACT_QMAX) - row_max_log2)
    return a8_search_cycles(math.floor(row_max_log2) + 17, f)


def vector_unit_cycles(kind: str, tokens: int, h: int, search: Sequence[int] = ()) -> int:
    """vector_unit's cycles for one command (S_IDLE, S_DESC, S_DONE: 3, and its passes at one
    activation-port access per cycle) over `tokens` rows of `h` values (R = h/8 words).
    `search`: requantize's S_SEARCH cycles per token (default: the estimator's assumption)."""
    r = tiling.ceil_div(h, 8)
    if kind == "requantize":
        # per token S_LOAD (R, into the row buffer) + S_LOADW, S_SEARCH, S_QRD (the buffer's
        # first entry), one S_QWR per A8 word (R/4), S_FXRD + S_FXWR
        search = list(search) or [assumed_a8_search_cycles()] * tokens
        return 3 + tokens * (r + tiling.ceil_div(r, 4) + 4) + sum(search)
    if kind in ("swiglu", "silu", "mul"):
        # rounds of S_GX, S_GY, S_GW per word and one more for the last write (silu / mul
        # have no RTL op of their own: priced as swiglu)
        return 3 + 3 * (tokens * r + 1)
    if kind == "add":
        return 3 + 3 * tokens * r  # S_RDX, S_RDY, S_WR per word
    raise ValueError(f"vector_unit executes no {kind!r}")


def rope_cycles(tokens: int, h: int) -> int:
    """rope_cmd_unit's cycles for one command over `tokens` rows of `h` values (heads x
    head_dim): S_IDLE, S_DESC, S_DONE, and a round (S_R1, S_R2, S_W1, S_W2) per chunk of 8
    pairs (16 values) plus the write-only round of the last chunk."""
    return 3 + ROPE_ROUND * (tokens * (h // 16) + 1)


def norm_row_cycles(h: int) -> int:
    """norm_unit + rmsnorm_unit per token row of `h` values (R = h/8 words, one word per cycle
    per pass): S_FEED reads the row (R, the last word lands 1 later), the sum-of-squares pass
    (R + its drain), the rsqrt, the output pass (R + its pipeline) written as it comes."""
    r = tiling.ceil_div(h, 8)
    return (r + 1) + (r + RMSNORM_SUM_LAT) + RMSNORM_RSQRT + (r + RMSNORM_OUT_LAT)


def vector_cost(s: Step, m: Machine, tokens: int) -> Cost:
    """Row-wise units, state machine by state machine (docs/rtl_lib.md); every command pays
    S_IDLE, S_DESC, S_DONE (3 cycles).  One unit of each kind (no copies in the RTL)."""
    h = s.length
    read = 0.0
    if s.kind == "rmsnorm":
        # norm_unit: S_GCMD + the gain table fetched once per command (fill + words at the
        # misc channel's rate), then the rows (norm_row_cycles).
        gwords = tiling.words_of(2 * h)
        gain = 1 + m.fill_cycles() + gwords / min(m.wpc, 1.0)
        cycles = 3 + gain + tokens * norm_row_cycles(h)
        read = gwords * WORD_BYTES
    elif s.kind == "rope":
        cycles = rope_cycles(tokens, h)
    elif s.kind in ("swiglu", "silu", "mul", "requantize", "add"):
        cycles = vector_unit_cycles(s.kind, tokens, h)
    elif s.kind == "embedding":
        words = tiling.int8_words_per_row(s.length + 1)
        read = tokens * words * WORD_BYTES
        cycles = tokens * words / m.wpc + m.fill_cycles()
    else:
        raise ValueError(f"no cost for vector kind {s.kind!r}")
    return Cost(cycles, read, 0.0)


def step_commands(s: Step, m: Machine, tokens: int, position: int) -> list[Command]:
    """The unit commands of step `s` for `tokens` tokens, the first at `position` (= the tokens
    already in the KV cache: the program's position register)."""
    if s.kind == "linear":
        return linear_commands(s, m, tokens)
    if s.kind == "attention":
        return [attention_command(s, m, tokens, position)]
    if s.kind == "kv_append":
        # Fused into the attention command that follows it (stream_attention_unit appends and
        # attends in one command): no command of its own.
        return [] if s.fused else [attention_command(s, m, tokens, position, attend=False)]
    c = vector_cost(s, m, tokens)
    return [Command(c.cycles, read=c.read, written=c.written)]


def step_cost(s: Step, m: Machine, tokens: int, position: int) -> Cost:
    """Cycles (each command with its data present) and bytes of `s`, outside any program."""
    total = Cost()
    for c in step_commands(s, m, tokens, position):
        total += Cost(c.cycles, c.read, c.written)
    return total


@dataclass
class ScheduleResult:
    """A schedule's makespan, HBM traffic and per-unit busy cycles."""

    cycles: float
    read: float
    written: float
    busy: dict[str, float]
    by_kind: dict[str, float]
    stream_beats: dict[int, float] = field(default_factory=dict)


# Sequencer units sharing one engine instance (one command at a time, cmd_ready only in S_IDLE).
SHARED_UNITS = accel.UNIT_INSTANCE


def run_schedule(steps: list[Step], m: Machine, tokens: int, position: int) -> ScheduleResult:
    """One program run: the sequencer (rtl_lib/sequencer.sv) instruction by instruction, the
    prefetchers streaming from its start (`StreamState`).

    Every instruction takes S_FETCH, S_WAIT and S_EXEC (`ISSUE_CYCLES`).  A DISPATCH retires
    in the S_EXEC cycle its unit accepts: units accept only when idle (vector_unit serves vec
    and act), so a dispatch to a busy unit stalls the sequencer.  A linear dispatches one
    command per GEMM tile.  A command ends when its unit's work with the data present is done
    and no earlier than its last beat's arrival plus its tail (`StreamState.step`).  A
    BARRIER retires once the units it names have completed; HALT once every unit has.  At the
    model level (no barriers) a step also waits for the steps producing its inputs.
    """
    plans = [step_commands(s, m, tokens, position) for s in steps]
    totals: dict[int, float] = {}
    for cmds in plans:
        for c in cmds:
            for ch, beats in c.demand.items():
                totals[ch] = totals.get(ch, 0.0) + beats
    stream = StreamState(m.channel_streams(), totals)
    t = 0.0  # cycle of the next instruction's S_FETCH
    unit_free: dict[str, float] = {}  # cycle a physical unit is back in S_IDLE
    finish: list[float] = []
    busy: dict[str, float] = {}
    by_kind: dict[str, float] = {}
    read = written = 0.0
    for s, cmds in zip(steps, plans, strict=True):
        ready = max([0.0] + [finish[d] for d in s.deps])
        if not cmds:  # fused into a later command
            finish.append(ready)
            continue
        if s.barrier:
            phys = {SHARED_UNITS.get(u, u) for u in s.barrier}
            t = max([t + ISSUE_CYCLES - 1] + [unit_free.get(u, 0.0) for u in phys]) + 1
        unit = SHARED_UNITS.get(s.unit, s.unit)
        end = 0.0
        for c in cmds:
            start = max(t + ISSUE_CYCLES - 1, unit_free.get(unit, 0.0), ready)
            cycles = c.cycles
            if c.timed is not None and c.demand:
                # The channel whose last beat comes latest binds the command.
                held, offset = max(
                    (stream.peek(ch, start) for ch in c.demand),
                    key=lambda ho: ho[1] - ho[0] / m.beat_rate,
                )
                cycles = c.timed(held, offset)
            end = stream.step(start, cycles, c.demand, tail=c.tail)
            unit_free[unit] = end
            busy[s.unit] = busy.get(s.unit, 0.0) + end - start
            by_kind[s.kind] = by_kind.get(s.kind, 0.0) + end - start
            read += c.read
            written += c.written
            t = start + 1
        finish.append(end)
    makespan = max([t + ISSUE_CYCLES - 1] + finish)  # HALT
    return ScheduleResult(makespan, read, written, busy, by_kind, totals)
