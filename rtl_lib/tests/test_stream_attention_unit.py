"""stream_attention_unit vs the integer golden model's attention step, bit for bit.

The KV cache lives in a modelled HBM (one byte image per channel, laid out by
`tiling.kv_ring`); for each command the test computes what the prefetcher would deliver to each
pipeline (`tiling.kv_stream_rings` walked by `fetch_isa.deliveries` at the command's position,
from the image as it was when the command started) and drives those beats with random valid gaps;
a write-master model takes the unit's KV writes (random ready, byte strobes) into the image and
holds `kvw_busy` a random time after each. Expected values: `golden.lambda_attention_step`
(kv4_quantize of the new tokens, attention_lambda over the cached slots plus the new tokens,
LambdaKVCache.write). Checked after every command: every output word (and that nothing else
in the activation buffer is written), that every delivered beat was consumed, and that the
whole HBM image equals the pre-command image with the golden cache's slots written in.

Cases: build A (2 pipelines, hd 16 on 256-bit beats: 4 slots per beat, SINK 2, WINDOW 6): a GQA
layer (4 query heads on 2 KV heads) prefilled in a chunk of 5 tokens on the empty cache and a
chunk of 7 on the filled one (the window wraps inside the chunk), then 4 decode steps at the
position register; an MHA layer in the next ring. Build B (1 pipeline holding 2 KV heads, hd 128
on 256-bit beats: 2 beats per slot) and build C (u280's pipeline shape: hd 128 on 512-bit beats,
one slot per beat, 2 pipelines): MHA chunks and decode steps past the wrap.
A second test per build runs chunks and decode steps with a gap-free stream and an always-ready
write port and checks the cycles against the cost rule (`cost.stream_attention_cycles`).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from accllm.backend import accel_program_attn as apa
from accllm.backend import tiling
from accllm.backend.perf import cost
from accllm.numerics import contract as ct
from accllm.numerics import golden
from accllm.rtl_lib import fetch_isa, sim
from accllm.rtl_lib.stream import UnitMemories, clock_and_reset, run_command

HBM_BYTES = 8192
WRITE_LATENCY = 8  # write model: last data beat -> busy low (cycles test)


def store_rows(act: dict, base: int, x) -> None:
    """Q15.16 rows [T, ...] -> 256-bit words of 8 int32 lanes, lane 0 lowest."""
    flat = np.asarray(x, dtype=np.int64).reshape(-1)
    for w in range(len(flat) // 8):
        act[base + w] = sum(
            (int(v) & 0xFFFFFFFF) << (32 * i) for i, v in enumerate(flat[8 * w : 8 * w + 8])
        )


def load_rows(act: dict, base: int, n: int) -> np.ndarray:
    out = []
    for w in range(n // 8):
        word = act.get(base + w, 0)
        for i in range(8):
            v = word >> (32 * i) & 0xFFFFFFFF
            out.append(v - (1 << 32) if v >> 31 else v)
    return np.array(out, dtype=np.int64)


class Hbm:
    """Byte images of the KV channels, a stream source per pipeline and a write-master model.

    One coroutine drives every pipeline's packed s_valid/s_data and kvw_* inputs (they share
    vectors). `gap`: probability of an idle cycle before a beat; `stall`: of ready low."""

    def __init__(self, dut, pipes: int, dw: int, gap: float, stall: float, b_latency=None):
        self.dut, self.pipes, self.dw, self.bb = dut, pipes, dw, dw // 8
        self.mem = [bytearray(HBM_BYTES) for _ in range(pipes)]
        self.beats: list[list[int]] = [[] for _ in range(pipes)]
        self.gap, self.stall, self.b_latency = gap, stall, b_latency
        self.cmds: list[list[tuple[int, int]]] = [[] for _ in range(pipes)]
        self.busy_until = [0] * pipes
        self.cycle = 0

    def load(self, pipe: int, addrs: list[int]) -> None:
        self.beats[pipe] = [
            int.from_bytes(self.mem[pipe][a : a + self.bb], "little") for a in addrs
        ]

    async def run(self):
        dut, pp = self.dut, self.pipes
        hold = [False] * pp  # a beat is on the port (valid held until it moves)
        while True:
            valid = data = 0
            for p in range(pp):
                if not hold[p] and self.beats[p] and random.random() >= self.gap:
                    hold[p] = True
                if hold[p]:
                    valid |= 1 << p
                    data |= self.beats[p][0] << (p * self.dw)
            dut.s_valid.value = valid
            dut.s_data.value = data
            crdy = sum((random.random() >= self.stall) << p for p in range(pp))
            wrdy = sum((random.random() >= self.stall) << p for p in range(pp))
            dut.kvw_cmd_ready.value = crdy
            dut.kvw_ready.value = wrdy
            dut.kvw_busy.value = sum((self.busy_until[p] > self.cycle) << p for p in range(pp))
            await ReadOnly()
            srdy = int(dut.s_ready.value)
            cval, wval = int(dut.kvw_cmd_valid.value), int(dut.kvw_valid.value)
            caddr, clen = int(dut.kvw_cmd_addr.value), int(dut.kvw_cmd_len.value)
            wdata, wstrb = int(dut.kvw_data.value), int(dut.kvw_strb.value)
            await RisingEdge(dut.clk)
            self.cycle += 1
            for p in range(pp):
                if hold[p] and srdy >> p & 1:
                    self.beats[p].pop(0)
                    hold[p] = False
                if cval >> p & 1 and crdy >> p & 1:
                    addr = caddr >> (32 * p) & 0xFFFFFFFF
                    beats = clen >> (16 * p) & 0xFFFF
                    assert addr % self.bb == 0 and beats >= 1, (addr, beats)
                    self.cmds[p] += [(addr + i * self.bb, 0) for i in range(beats)]
                    self.busy_until[p] = 1 << 62  # busy until the data is in
                if wval >> p & 1 and wrdy >> p & 1:
                    assert self.cmds[p], "write data before its command"
                    addr, _ = self.cmds[p].pop(0)
                    d = wdata >> (p * self.dw) & ((1 << self.dw) - 1)
                    s = wstrb >> (p * self.bb) & ((1 << self.bb) - 1)
                    for i in range(self.bb):
                        if s >> i & 1:
                            self.mem[p][addr + i] = d >> (8 * i) & 0xFF
                    if not self.cmds[p]:  # the B response arrives a little later
                        lat = self.b_latency or random.randint(1, 6)
                        self.busy_until[p] = self.cycle + lat


def store_cache(mem, cache: golden.LambdaKVCache, layer: int, addr: int, pipes: int) -> None:
    """The golden cache's filled slots of `layer` into HBM images (apa.kv_ring_bytes)."""
    for c, image in apa.kv_ring_bytes(cache, layer, addr, pipes).items():
        for a, b in image.items():
            mem[c][a] = b


class Layer:
    def __init__(self, rng, heads, kv_heads, hd, sink, window, layer, pipes):
        self.rng, self.heads, self.kvh, self.hd = rng, heads, kv_heads, hd
        self.layer = layer
        self.cache = golden.LambdaKVCache(layer + 1, kv_heads, hd, sink, window)
        self.ring = tiling.kv_ring(hd, sink, window)
        self.addr = tiling.kv_layer_addr(0, layer, kv_heads, pipes, self.ring)
        self.filled = 0  # positions in the cache

    def tokens(self, t: int):
        """Random q [T, nh, hd], k, v [T, nkv, hd] in Q15.16 with per-head magnitudes."""
        r = self.rng
        qs = r.integers(1 << 14, 1 << 19, size=(1, self.heads, 1))
        ks = r.integers(1 << 12, 1 << 20, size=(1, self.kvh, 1))
        q = r.integers(-(1 << 19), 1 << 19, size=(t, self.heads, self.hd)) * qs >> 19
        k = r.integers(-(1 << 19), 1 << 19, size=(t, self.kvh, self.hd)) * ks >> 19
        v = r.integers(-(1 << 20), 1 << 20, size=(t, self.kvh, self.hd))
        return q, k, v


class Harness:
    def __init__(self, dut, mems, hbm, params):
        self.dut, self.mems, self.hbm, self.p = dut, mems, hbm, params
        self.ndesc = 0
        self.limits = apa.StreamAttnLimits(params["KV_HEADS"], params["REP_MAX"], params["TMAX"])

    async def step(self, lay: Layer, t: int, pos_reg: bool) -> int:
        """One command: t new tokens after the lay.filled cached ones; checks everything."""
        mems, hbm, pipes = self.mems, self.hbm, self.p["PIPES"]
        start = lay.filled
        q, k, v = lay.tokens(t)
        rw = apa.q15_row_words(t, lay.heads, lay.hd)
        kw = apa.q15_row_words(t, lay.kvh, lay.hd)
        qb, kb, vb, ob = 0, rw, rw + kw, rw + 2 * kw
        store_rows(mems.act, qb, q)
        store_rows(mems.act, kb, k)
        store_rows(mems.act, vb, v)
        for p in range(pipes):
            rings = tiling.kv_stream_rings(lay.addr, lay.kvh, t, p, pipes, lay.ring)
            prog = [fetch_isa.Ring(0, a, sb, cap) for a, sb, cap in rings] + [fetch_isa.End()]
            hbm.load(p, [a for _, a in fetch_isa.deliveries(prog, start, self.p["DW"])])
        expect = [bytearray(m) for m in hbm.mem]
        want = golden.lambda_attention_step(q, k, v, start + np.arange(t), lay.cache, lay.layer)
        store_cache(expect, lay.cache, lay.layer, lay.addr, pipes)
        d = apa.stream_attention_descriptor(
            q_base=qb,
            k_base=kb,
            v_base=vb,
            o_base=ob,
            kv_addr=lay.addr,
            heads=lay.heads,
            kv_heads=lay.kvh,
            head_dim=lay.hd,
            tokens=t,
            position=None if pos_reg else start,
            limits=self.limits,
        )
        idx = self.ndesc
        self.ndesc += 1
        mems.desc[idx] = d.pack()
        self.dut.pos.value = start if pos_reg else 0
        n_before = len(mems.writes)
        cycles = await run_command(self.dut, idx, limit=400_000)
        assert not int(self.dut.err.value), "stream_attention_unit raised err"
        assert all(not b for b in hbm.beats), "beats left unconsumed"
        written = {a for a, _, _ in mems.writes[n_before:]}
        assert written == set(range(ob, ob + rw)), "attention wrote outside its output rows"
        got = load_rows(mems.act, ob, rw * 8).reshape(t, -1)
        bad = np.argwhere(got != want)
        assert not len(bad), f"{len(bad)} outputs differ at positions {start}..; first {bad[:4]}"
        for c in range(pipes):
            diff = [i for i in range(HBM_BYTES) if hbm.mem[c][i] != expect[c][i]]
            assert not diff, f"channel {c}: HBM bytes differ from the golden cache at {diff[:8]}"
        lay.filled += t
        return cycles


async def setup(dut, gap: float, stall: float, b_latency: int | None = None):
    p = sim.test_parameters()
    for port in ("cmd_valid", "cmd_payload", "pos"):
        getattr(dut, port).value = 0
    mems = UnitMemories(dut)
    hbm = Hbm(dut, p["PIPES"], p["DW"], gap, stall, b_latency)
    await clock_and_reset(dut)
    cocotb.start_soon(mems.run())
    cocotb.start_soon(hbm.run())
    return p, Harness(dut, mems, hbm, p)


@cocotb.test()
async def lambda_attention_matches_golden(dut):
    p, h = await setup(dut, gap=0.3, stall=0.3)
    rng = np.random.default_rng(random.randrange(1 << 30))
    sink, window, hd = p["SINK"], p["WINDOW"], p["HEAD_DIM"]
    if p["REP_MAX"] == 2:
        gqa = Layer(rng, 4, 2, hd, sink, window, 0, 2)
        await h.step(gqa, 5, pos_reg=False)  # prefill chunk on the empty cache
        await h.step(gqa, 7, pos_reg=True)  # chunk on the filled cache, wraps inside
        assert gqa.filled > sink + window
        for _ in range(4):
            await h.step(gqa, 1, pos_reg=True)  # decode
        mha = Layer(rng, 2, 2, hd, sink, window, 1, 2)
        await h.step(mha, 8, pos_reg=False)
        await h.step(mha, 3, pos_reg=True)
        await h.step(mha, 1, pos_reg=True)
    else:
        mha = Layer(rng, 2, 2, hd, sink, window, 0, p["PIPES"])
        await h.step(mha, 3, pos_reg=False)
        while mha.filled <= sink + window:  # chunks until the window has wrapped
            await h.step(mha, p["TMAX"], pos_reg=True)
        for _ in range(3):
            await h.step(mha, 1, pos_reg=True)
        other = Layer(rng, 2, 2, hd, sink, window, 1, p["PIPES"])
        await h.step(other, 2, pos_reg=False)


@cocotb.test()
async def cycles_match_cost_rule(dut):
    """Gap-free stream and write port: the unit's cycles against cost.stream_attention_cycles."""
    p, h = await setup(dut, gap=0.0, stall=0.0, b_latency=WRITE_LATENCY)
    rng = np.random.default_rng(7)
    sink, window, hd = p["SINK"], p["WINDOW"], p["HEAD_DIM"]
    heads, kvh = (2 * p["REP_MAX"], 2)
    lay = Layer(rng, heads, kvh, hd, sink, window, 0, p["PIPES"])
    geo = cost.StreamAttnGeometry(p["PIPES"], hd, p["DW"], sink, window, WRITE_LATENCY)
    for t in (p["TMAX"] // 2, 1, 1, *[p["TMAX"]] * (window // p["TMAX"] + 1), 1):
        cached = lay.filled
        got = await h.step(lay, t, pos_reg=True)
        want = cost.stream_attention_cycles(geo, heads, kvh, t, cached)
        dut._log.info(f"T={t} after {cached}: {got} cycles, cost rule {want}")
        assert abs(got - want) <= 0.05 * got, f"T={t}, {cached} cached: {got} vs rule {want}"


@cocotb.test()
async def descriptor_beyond_parameters_sets_err(dut):
    """A command the unit was not built for (tokens > TMAX) ends at once with err, writing
    nothing; a reset clears err."""
    p, h = await setup(dut, gap=0.0, stall=0.0)
    m, sh = ct.attention_score_scale(p["HEAD_DIM"])
    d = apa.StreamAttnDescriptor(0, 0, 0, 0, 0, 0, p["TMAX"] + 1, 2, 2, m, sh, 3, 1)
    h.mems.desc[0] = d.pack()
    n = await run_command(dut, 0, limit=200)
    assert int(dut.err.value) == 1 and not h.mems.writes, n
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    assert int(dut.err.value) == 0


BUILDS = {
    "A": {"PIPES": 2, "SINK": 2, "WINDOW": 6, "HEAD_DIM": 16, "DW": 256, "KV_HEADS": 2,
          "REP_MAX": 2, "TMAX": 8, "ACT_AW": 10},
    "B": {"PIPES": 1, "SINK": 1, "WINDOW": 4, "HEAD_DIM": 128, "DW": 256, "KV_HEADS": 2,
          "REP_MAX": 1, "TMAX": 4, "ACT_AW": 10},
    "C": {"PIPES": 2, "SINK": 4, "WINDOW": 12, "HEAD_DIM": 128, "DW": 512, "KV_HEADS": 2,
          "REP_MAX": 1, "TMAX": 4, "ACT_AW": 10},
}  # fmt: skip


@pytest.mark.rtl
@pytest.mark.parametrize("build", sorted(BUILDS))
def test_stream_attention_unit(build):
    sim.run_primitive("stream_attention_unit", __file__, BUILDS[build])
