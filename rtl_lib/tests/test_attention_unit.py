"""attention_unit vs the integer golden model's attention step, bit for bit.

Descriptors come from `accllm.backend.accel_program_attn`; Q15.16 q/k/v rows (random, after
RoPE in the model) sit in a modelled activation buffer. The expected values come from
`golden.lambda_attention_step`, the attention step of the golden model's attention_block:
`kv4_quantize` of the new tokens, `attention_lambda` over the `LambdaKVCache` contents plus the
new tokens, then `LambdaKVCache.write`. Checked: every output word (and that nothing else is
written) and every occupied record of the unit's KV memory (codes, zero point, exponent of K and
V) against the golden cache after each instruction sequence.

Cases (one build, SINK=2, WINDOW=6): a GQA layer (4 query heads on 2 KV heads) prefilled with
12 tokens -- the window wraps twice -- through kv_append + fused attention as lowered, then 3
decode steps (kv_append + attention at the runtime position register), the Λ pattern of issue 8;
then an MHA layer (2 heads) in the second cache region, prefilled with 9 tokens.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend import accel_program_attn as apa
from accllm.backend import tiling
from accllm.numerics import contract as ct
from accllm.numerics import golden
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset, run_command

RES_FRAC = ct.NUMERICS.res_frac


class Memories:
    """Descriptor ROM and activation buffer (one-cycle reads, lane writes), KV host reads."""

    def __init__(self, dut):
        self.dut, self.desc, self.act, self.writes = dut, {}, {}, []

    async def run(self):
        while True:
            await ReadOnly()
            daddr = int(self.dut.desc_addr.value)
            aaddr = int(self.dut.act_addr.value)
            we, lanes = int(self.dut.act_we.value), int(self.dut.act_lane_we.value)
            wdata = int(self.dut.act_wdata.value)
            await RisingEdge(self.dut.clk)
            if we:
                self.writes.append((aaddr, lanes, wdata))
                old = self.act.get(aaddr, 0)
                for i in range(8):
                    if lanes >> i & 1:
                        m = 0xFFFFFFFF << (32 * i)
                        old = (old & ~m) | (wdata & m)
                self.act[aaddr] = old
            self.dut.desc_data.value = self.desc.get(daddr, 0)
            self.dut.act_rdata.value = self.act.get(aaddr, 0)


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


def kv_record(cache: golden.LambdaKVCache, layer: int, g: int, s: int, hd: int) -> int:
    """The golden cache's (head g, slot s) as the unit's {V, K} record of {zp, exp, codes}."""
    ew = 4 * hd + 12

    def entry(packed, zp, exp):
        codes = int.from_bytes(bytes(packed), "little")
        return codes | (int(exp) & 0xFF) << (4 * hd) | int(zp) << (4 * hd + 8)

    k = entry(cache.k_packed[layer, g, s], cache.k_zp[layer, g, s], cache.k_exp[layer, g, s])
    v = entry(cache.v_packed[layer, g, s], cache.v_zp[layer, g, s], cache.v_exp[layer, g, s])
    return k | v << ew


class Harness:
    def __init__(self, dut, mems):
        self.dut, self.mems, self.ndesc, self.cycles = dut, mems, 0, []

    async def dispatch(self, d: apa.AttnDescriptor, kv: bool, pos_reg: int = 0) -> None:
        """Run one descriptor on the `kv` (kv_append) or `attn` command stream to its done."""
        idx = self.ndesc
        self.ndesc += 1
        self.mems.desc[idx] = d.pack()
        dut = self.dut
        dut.pos.value = pos_reg
        prefix, other = ("kv_", "done") if kv else ("", "kv_done")
        n = await run_command(dut, idx, prefix, other, limit=500_000)
        assert not int(dut.err.value), "attention_unit raised err"
        self.cycles.append(n)


class Layer:
    """One attention layer: geometry, golden cache, buffers laid out in the act model."""

    def __init__(self, rng, heads, kv_heads, hd, sink, window, layer, act_next):
        self.rng, self.heads, self.kvh, self.hd = rng, heads, kv_heads, hd
        self.sink, self.window, self.layer = sink, window, layer
        self.cache = golden.LambdaKVCache(layer + 1, kv_heads, hd, sink, window)
        self.kv_base = tiling.kv_entry_base(layer, kv_heads, sink, window)
        self.act_next = act_next

    def alloc(self, words: int) -> int:
        base, self.act_next = self.act_next, self.act_next + words
        return base

    def tokens(self, t: int):
        """Random q [T, nh, hd], k, v [T, nkv, hd] in Q15.16 with per-head magnitudes."""
        r = self.rng
        qs = r.integers(1 << 14, 1 << 19, size=(1, self.heads, 1))
        ks = r.integers(1 << 12, 1 << 20, size=(1, self.kvh, 1))
        q = r.integers(-(1 << 19), 1 << 19, size=(t, self.heads, self.hd)) * qs >> 19
        k = r.integers(-(1 << 19), 1 << 19, size=(t, self.kvh, self.hd)) * ks >> 19
        v = r.integers(-(1 << 20), 1 << 20, size=(t, self.kvh, self.hd))
        return q, k, v

    def golden_step(self, q, k, v, pos):
        """The golden model's attention step (golden.lambda_attention_step), cache updated."""
        return golden.lambda_attention_step(q, k, v, pos, self.cache, self.layer)


async def run_steps(h: Harness, lay: Layer, start: int, t: int, decode: bool) -> None:
    """kv_append + attention of t tokens at positions start.. (prefill: fused, constant
    position; decode: position register); outputs checked."""
    mems = h.mems
    q, k, v = lay.tokens(t)
    qb = lay.alloc(apa.q15_row_words(t, lay.heads, lay.hd))
    kb = lay.alloc(apa.q15_row_words(t, lay.kvh, lay.hd))
    vb = lay.alloc(apa.q15_row_words(t, lay.kvh, lay.hd))
    ob = lay.alloc(apa.q15_row_words(t, lay.heads, lay.hd))
    store_rows(mems.act, qb, q)
    store_rows(mems.act, kb, k)
    store_rows(mems.act, vb, v)
    want = lay.golden_step(q, k, v, start + np.arange(t))
    position = None if decode else start
    app = apa.kv_append_descriptor(
        k_base=kb,
        v_base=vb,
        kv_base=lay.kv_base,
        kv_heads=lay.kvh,
        head_dim=lay.hd,
        tokens=t,
        position=position,
    )
    fused = {} if decode else {"k_base": kb, "v_base": vb}
    att = apa.attention_descriptor(
        q_base=qb,
        o_base=ob,
        kv_base=lay.kv_base,
        heads=lay.heads,
        kv_heads=lay.kvh,
        head_dim=lay.hd,
        tokens=t,
        position=position,
        **fused,
    )
    n_before = len(mems.writes)
    await h.dispatch(app, kv=True, pos_reg=start)
    assert len(mems.writes) == n_before, "kv_append wrote the activation buffer"
    await h.dispatch(att, kv=False, pos_reg=start)
    rw = apa.q15_row_words(t, lay.heads, lay.hd)
    written = {a for a, _, _ in mems.writes[n_before:]}
    assert written == set(range(ob, ob + rw)), "attention wrote outside its output rows"
    got = load_rows(mems.act, ob, rw * 8).reshape(t, -1)
    bad = np.argwhere(got != want)
    assert not len(bad), f"{len(bad)} outputs differ at positions {start}..; first {bad[:4]}"


async def check_cache(h: Harness, lay: Layer) -> None:
    slots = lay.sink + lay.window
    for g in range(lay.kvh):
        for s in range(slots):
            if lay.cache.pos[lay.layer, s] < 0:
                continue
            h.dut.kv_rd_addr.value = lay.kv_base + g * slots + s
            await RisingEdge(h.dut.clk)
            await RisingEdge(h.dut.clk)
            await ReadOnly()
            got = int(h.dut.kv_rd_data.value)
            want = kv_record(lay.cache, lay.layer, g, s, lay.hd)
            assert got == want, f"KV record head {g} slot {s}: {got:#x} != {want:#x}"
            await RisingEdge(h.dut.clk)


@cocotb.test()
async def lambda_attention_matches_golden(dut):
    p = sim.test_parameters()
    sink, window, hd = p["SINK"], p["WINDOW"], p["HEAD_DIM"]
    rng = np.random.default_rng(random.randrange(1 << 30))
    mems = Memories(dut)
    for port in ("cmd_valid", "kv_cmd_valid", "cmd_payload", "kv_cmd_payload", "pos", "kv_rd_addr"):
        getattr(dut, port).value = 0
    await clock_and_reset(dut)
    cocotb.start_soon(mems.run())
    h = Harness(dut, mems)

    # GQA layer (4 heads on 2 KV heads): prefill past the window, then 3 decode steps.
    gqa = Layer(rng, 4, p["KV_HEADS"], hd, sink, window, 0, 0)
    prompt = 12
    assert prompt > sink + window
    await run_steps(h, gqa, 0, prompt, decode=False)
    await check_cache(h, gqa)
    for step in range(3):
        await run_steps(h, gqa, prompt + step, 1, decode=True)
    await check_cache(h, gqa)

    # MHA layer in the second cache region.
    mha = Layer(rng, 2, 2, hd, sink, window, 1, gqa.act_next)
    await run_steps(h, mha, 0, 9, decode=False)
    await check_cache(h, mha)
    await check_cache(h, gqa)  # the first layer's cache is untouched
    dut._log.info(f"attention_unit cycles per descriptor (append, attention, ...): {h.cycles}")


@pytest.mark.rtl
def test_attention_unit():
    sim.run_primitive(
        "attention_unit",
        __file__,
        {"SINK": 2, "WINDOW": 6, "KV_HEADS": 2, "HEAD_DIM": 16, "KV_ENTRIES": 64, "ACT_AW": 10},
    )
