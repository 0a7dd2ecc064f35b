"""linear_unit vs `accllm.numerics.contract.linear_w2a8`, bit for bit.

A random 2:4 W2 layer (codes, patterns, zero points, 16-bit group mantissas, per-row exponents)
is laid out in HBM exactly as the backend lays it out (`accllm.backend.accel_program`: lane-
interleaved weight tiles on CH channels, metadata records on the misc channel), served by the
behavioural HBM model (`accllm.backend.sim.hbm`: latency and bandwidth per channel); A8 rows and
per-token exponents sit in a modelled activation buffer. Two descriptors run back to back (a
G=64 layer with 4 tokens, a G=128 layer with K=128 and 1 token, rows not a multiple of the
lanes); every written Q15.16 output must equal the contract's and nothing else may be written.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.backend.sim.hbm import HbmChannel, Ports, serve
from accllm.numerics import contract as ct
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset


def random_layer(rng, n, k, group):
    """A random compressed W2 layer in the contract's stored form."""
    patterns = rng.integers(0, 6, size=(n, k // 4))
    codes = rng.integers(0, 4, size=(n, k // 4, 2))
    return ct.W2Linear(
        packed=ct.pack_2_4_w2(codes, patterns),
        zp=rng.integers(0, 4, size=(n, k // group)).astype(np.uint8),
        scale_mant=rng.integers(1, 1 << 16, size=(n, k // group)),
        scale_exp=rng.integers(10, 30, size=n).astype(np.int8),
        in_features=k,
        out_features=n,
        group=group,
    )


class Memories:
    """Descriptor ROM and activation buffer models (one-cycle read latency, lane writes)."""

    def __init__(self, dut, desc, act):
        self.dut, self.desc, self.act, self.writes = dut, desc, act, []

    async def run(self):
        while True:
            await ReadOnly()
            daddr = int(self.dut.desc_addr.value)
            aaddr = int(self.dut.act_addr.value)
            we, lanes = int(self.dut.act_we.value), int(self.dut.act_lane_we.value)
            wdata = int(self.dut.act_wdata.value)
            await RisingEdge(self.dut.clk)
            if we:
                for i in range(8):
                    if lanes >> i & 1:
                        v = (wdata >> (32 * i)) & 0xFFFFFFFF
                        self.writes.append((aaddr, i, v - (1 << 32) if v >> 31 else v))
            self.dut.desc_data.value = self.desc.get(daddr, 0)
            self.dut.act_rdata.value = self.act.get(aaddr, 0)


def act_words(x_q, f_x):
    """A8 rows (k/32 words each) then per-token exponent bytes, as tiling.act_words lays out."""
    t, k = x_q.shape
    words = []
    for row in x_q:
        b = (row.astype(np.int64) & 0xFF).astype(np.uint8).tobytes()
        words += [int.from_bytes(b[i : i + 32], "little") for i in range(0, k, 32)]
    fb = (np.asarray(f_x, dtype=np.int64) & 0xFF).astype(np.uint8).tobytes()
    fb += bytes(-len(fb) % 32)
    words += [int.from_bytes(fb[i : i + 32], "little") for i in range(0, len(fb), 32)]
    return words


@cocotb.test()
async def linear_layers_match_the_contract(dut):
    p = sim.test_parameters()
    ch, lanes, blocks = p["CH"], p["LANES"], p["BLOCKS"]
    rng = np.random.default_rng(random.randrange(1 << 30))
    hbm = [dict() for _ in range(ch)]
    meta_mem: dict[int, int] = {}
    desc: dict[int, int] = {}
    act: dict[int, int] = {}
    expect = []  # (y_base, n, want [T, N])
    w_next = m_next = a_next = 0
    for idx, (n, k, group, tokens) in enumerate([(64, 64, 64, 4), (40, 128, 128, 1)]):
        lin = random_layer(rng, n, k, group)
        per = -(-n // ch)
        split = tiling.RowSplit(per, -(-n // per), -(-per // lanes), lanes)
        for c, words in enumerate(ap.w2_weight_image(lin, split)):
            hbm[c].update({w_next + i: w for i, w in enumerate(words)})
        meta = ap.w2_meta_image(lin, split)
        meta_mem.update({m_next + i: w for i, w in enumerate(meta)})
        x_q = rng.integers(-127, 128, size=(tokens, k))
        f_x = rng.integers(0, 8, size=tokens)
        xw = act_words(x_q, f_x)
        act.update({a_next + i: w for i, w in enumerate(xw)})
        y_base = a_next + len(xw)
        d = ap.linear_descriptor(
            w_base_bytes=w_next * 32,
            meta_base_bytes=m_next * 32,
            x_base=a_next,
            y_base=y_base,
            n=n,
            k=k,
            group=group,
            tokens=tokens,
            split=split,
            mac_blocks=blocks,
        )
        desc[idx] = d.pack()
        expect.append((y_base, n, ct.linear_w2a8(x_q, f_x, lin)))
        w_next += split.padded_rows * ct.words_per_row(k)
        m_next += len(meta)
        a_next = y_base + tokens * n // 8
    mems = Memories(dut, desc, act)
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    dut.w_valid.value = 0
    dut.w_data.value = 0
    await clock_and_reset(dut)
    cocotb.start_soon(mems.run())
    # Weight channels at the sim target's 0.25 words per cycle, metadata at 1; 8-cycle latency.
    chans = [
        HbmChannel(
            Ports(
                "w_cmd_valid",
                "w_cmd_ready",
                "w_cmd_addr",
                "w_cmd_len",
                "w_valid",
                "w_ready",
                "w_data",
                index=c,
            ),
            hbm[c],
            8,
            0.25,
        )
        for c in range(ch)
    ]
    chans.append(
        HbmChannel(
            Ports(
                "m_cmd_valid",
                "m_cmd_ready",
                "m_cmd_addr",
                "m_cmd_len",
                "m_valid",
                "m_ready",
                "m_data",
            ),
            meta_mem,
            8,
            1.0,
        )
    )
    cocotb.start_soon(serve(dut, dut.clk, chans))
    cycles = []
    for idx in range(len(expect)):
        dut.cmd_payload.value = idx
        dut.cmd_valid.value = 1
        await RisingEdge(dut.clk)
        while not int(dut.cmd_ready.value):
            await RisingEdge(dut.clk)
        dut.cmd_valid.value = 0
        t0 = 0
        while not int(dut.done.value):
            await RisingEdge(dut.clk)
            t0 += 1
            assert t0 < 200_000, f"linear_unit stuck in state {int(dut.st.value)}"
        cycles.append(t0)
    dut._log.info(f"linear_unit cycles per descriptor: {cycles}")
    got = {(a, lane): v for a, lane, v in mems.writes}
    want = {}
    for y_base, n, y in expect:
        for t in range(y.shape[0]):
            for o in range(n):
                want[(y_base + t * n // 8 + o // 8, o % 8)] = int(y[t, o])
    assert len(mems.writes) == len(want), f"{len(mems.writes)} writes, expected {len(want)}"
    bad = [(key, got.get(key), v) for key, v in want.items() if got.get(key) != v]
    assert not bad, f"{len(bad)} outputs differ, first: {bad[:4]}"


@pytest.mark.slow
def test_linear_unit():
    sim.run_primitive("linear_unit", __file__)
