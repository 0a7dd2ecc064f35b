"""kv_cache_ctrl vs the contract's Λ rule (`lambda_slot`, `lambda_visible`) and KV4 layout.

Writes: KV4 entries made by `contract.kv4_quantize` from random Q15.16 vectors and packed with
`contract.kv4_pack`, at sequential positions (all heads per position, as in decode), repeated
positions, random jumps across the whole POS_W range (including 2^POS_W - 1 followed by 0) and
positions around S, S + W - 1 and S + W. Every memory write must hit
head * (S + W) + lambda_slot(p) with the word {zp, exp, packed codes}.
Queries: random and edge positions; the emitted (slot, address, key position, last) list must be
exactly the key positions j with lambda_visible(i, j) in increasing order, each at its
lambda_slot, and q_mask the set of their slots. A decode scenario then checks through the memory
model that every listed slot really holds the entry written for that key position.
All three channels run with random valid gaps and back-pressure.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, with_timeout

from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset


class Cache:
    """Parameters of the DUT plus the memory model fed from its write port."""

    def __init__(self, dut) -> None:
        p = sim.test_parameters()
        self.dut = dut
        self.s, self.w, self.heads, self.hd, self.pos_w = (
            p[k] for k in ("SINK", "WINDOW", "HEADS", "HEAD_DIM", "POS_W")
        )
        self.slots = self.s + self.w
        self.mem: dict[int, int] = {}
        self.writes: list[tuple[int, int]] = []

    async def monitor(self) -> None:
        while True:
            await ReadOnly()
            if self.dut.mem_we.value == 1:
                a = self.dut.mem_addr.value.to_unsigned()
                d = self.dut.mem_wdata.value.to_unsigned()
                self.writes.append((a, d))
                self.mem[a] = d
            await RisingEdge(self.dut.clk)

    def entry(self, rng: np.random.Generator) -> tuple[int, int, int]:
        """A random KV4 entry (packed codes as an int, exponent byte, zero point)."""
        scale = int(rng.choice([1 << 6, 1 << 12, 1 << 16, 1 << 20, 1 << 26]))
        x = rng.integers(-scale, scale + 1, size=self.hd)
        codes, zp, e = contract.kv4_quantize(x)
        packed = contract.kv4_pack(codes).tobytes()
        return int.from_bytes(packed, "little"), int(e) & 0xFF, int(zp)

    def word(self, codes: int, exp: int, zp: int) -> int:
        return (zp << (4 * self.hd + 8)) | (exp << (4 * self.hd)) | codes

    def addr(self, head: int, pos: int) -> int:
        return head * self.slots + int(contract.lambda_slot(pos, self.s, self.w))

    def visible(self, i: int) -> list[int]:
        """Key positions query i sees, by the contract, from a candidate superset of them."""
        cand = np.unique(
            np.concatenate(
                [np.arange(min(i + 1, self.slots + 2)), np.arange(max(0, i - self.w - 2), i + 1)]
            )
        )
        return [int(j) for j in cand[contract.lambda_visible(i, cand, self.s, self.w)]]

    def expected_list(self, i: int, head: int) -> tuple[list[dict[str, int]], int]:
        js = self.visible(i)
        mask = 0
        rows = []
        for n, j in enumerate(js):
            slot = int(contract.lambda_slot(j, self.s, self.w))
            mask |= 1 << slot
            rows.append(
                {
                    "m_slot": slot,
                    "m_addr": head * self.slots + slot,
                    "m_key_pos": j,
                    "m_last": int(n == len(js) - 1),
                }
            )
        for r in rows:
            r["q_mask"] = mask
        return rows, mask


async def _setup(dut) -> Cache:
    for name in ("wr_valid", "q_valid", "m_ready"):
        getattr(dut, name).value = 0
    await clock_and_reset(dut)
    c = Cache(dut)
    cocotb.start_soon(c.monitor())
    return c


def _edge_positions(c: Cache) -> list[int]:
    top = (1 << c.pos_w) - 1
    edges = [0, 1, c.s - 1, c.s, c.s + 1, c.slots - 2, c.slots - 1, c.slots, c.slots + 1]
    edges += [c.s + 2 * c.w - 1, c.s + 2 * c.w, c.s + 5 * c.w + 3, top - 1, top]
    return sorted({p for p in edges if 0 <= p <= top})


@cocotb.test()
async def writes_follow_lambda_rule(dut):
    """Every KV4 write lands at head * (S+W) + lambda_slot(pos) with {zp, exp, codes}."""
    c = await _setup(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    top = (1 << c.pos_w) - 1
    # Sequential runs: through two window wraps when the cache is small, else across each
    # boundary (sinks/window, first and second wrap) so the run length stays bounded.
    if c.slots + 2 * c.w < 200:
        positions: list[int] = list(range(c.slots + 2 * c.w + 3))
    else:
        positions = list(range(c.s + 3))
        for b in (c.slots, c.slots + c.w):
            positions += list(range(b - 8, b + 8))
    positions += _edge_positions(c) + [top, 0, 1]  # wrap of the position counter itself
    positions += [random.randint(0, top) for _ in range(40)]
    positions += [random.choice(positions) + d for d in (0, 1, 1, 2) for _ in range(10)]
    positions = [p & top for p in positions]
    beats, want = [], []
    for p in positions:
        heads = list(range(c.heads)) if random.random() < 0.5 else [random.randrange(c.heads)]
        for h in heads:
            codes, e, zp = c.entry(rng)
            beats.append({"wr_pos": p, "wr_head": h, "wr_codes": codes, "wr_exp": e, "wr_zp": zp})
            want.append((c.addr(h, p), c.word(codes, e, zp)))
    src = StreamSource(dut, valid="wr_valid", ready="wr_ready", gap_prob=0.3)
    await with_timeout(src.send(beats), 50_000_000, "ns")
    for _ in range(c.pos_w + 4):  # the last write may wait for the remainder unit
        await RisingEdge(dut.clk)
    assert len(c.writes) == len(want), f"{len(c.writes)} memory writes for {len(want)} beats"
    for n, (got, exp) in enumerate(zip(c.writes, want, strict=True)):
        b = beats[n]
        assert got[0] == exp[0], f"write {n} pos {b['wr_pos']} head {b['wr_head']}: addr {got[0]}"
        assert got[1] == exp[1], f"write {n} pos {b['wr_pos']}: data differs"


@cocotb.test()
async def queries_list_visible_slots(dut):
    """Slot list and mask of random and edge query positions, writes running concurrently."""
    c = await _setup(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    top = (1 << c.pos_w) - 1
    queries = _edge_positions(c) + [random.randint(0, top) for _ in range(6)]
    queries += [random.randint(0, c.slots + 3 * c.w) for _ in range(6)]
    random.shuffle(queries)
    qbeats, want = [], []
    for i in queries:
        h = random.randrange(c.heads)
        qbeats.append({"q_pos": i, "q_head": h})
        rows, _ = c.expected_list(i, h)
        want += rows
    wbeats = []
    for _ in range(60):
        codes, e, zp = c.entry(rng)
        p = random.randint(0, top)
        wbeats.append({"wr_pos": p, "wr_head": 0, "wr_codes": codes, "wr_exp": e, "wr_zp": zp})
    wsrc = StreamSource(dut, valid="wr_valid", ready="wr_ready", gap_prob=0.5)
    cocotb.start_soon(wsrc.send(wbeats))
    qsrc = StreamSource(dut, valid="q_valid", ready="q_ready", gap_prob=0.3)
    cocotb.start_soon(qsrc.send(qbeats))
    sink = StreamSink(dut, ["m_slot", "m_addr", "m_key_pos", "m_last", "q_mask"], stall_prob=0.3)
    got = await with_timeout(sink.collect(len(want), 1_000_000), 100_000_000, "ns")
    for n, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"entry {n}: got {g}, want {w}"


@cocotb.test()
async def decode_cache_holds_visible_keys(dut):
    """Decode order: write position i for every head, query i; each listed slot of the memory
    model holds the KV4 entry written for its key position."""
    c = await _setup(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    wsrc = StreamSource(dut, valid="wr_valid", ready="wr_ready", gap_prob=0.3)
    qsrc = StreamSource(dut, valid="q_valid", ready="q_ready", gap_prob=0.3)
    sink = StreamSink(dut, ["m_slot", "m_addr", "m_key_pos", "m_last"], stall_prob=0.3)
    written: dict[tuple[int, int], int] = {}  # (head, pos) -> word
    last = c.slots + 2 * c.w + 5
    checkpoints = {0, c.s - 1, c.s, c.slots - 1, c.slots, c.slots + c.w // 2, last - 1}
    for i in range(last):
        beats = []
        for h in range(c.heads):
            codes, e, zp = c.entry(rng)
            beats.append({"wr_pos": i, "wr_head": h, "wr_codes": codes, "wr_exp": e, "wr_zp": zp})
            written[(h, i)] = c.word(codes, e, zp)
        await wsrc.send(beats)
        if i not in checkpoints:
            continue
        for _ in range(c.pos_w + 4):  # let the last write reach the memory model
            await RisingEdge(dut.clk)
        h = random.randrange(c.heads)
        rows, _ = c.expected_list(i, h)
        await qsrc.send([{"q_pos": i, "q_head": h}])
        got = await with_timeout(sink.collect(len(rows), 100_000), 10_000_000, "ns")
        assert [g["m_key_pos"] for g in got] == [r["m_key_pos"] for r in rows]
        for g in got:
            assert c.mem.get(g["m_addr"]) == written[(h, g["m_key_pos"])], (
                f"query {i} head {h}: slot {g['m_slot']} does not hold key {g['m_key_pos']}"
            )


@pytest.mark.rtl
def test_kv_cache_ctrl_small():
    """S=2, W=5 (not a power of two), 3 heads, head_dim 8, 12-bit positions (wraps reachable)."""
    sim.run_primitive(
        "kv_cache_ctrl",
        __file__,
        {"SINK": 2, "WINDOW": 5, "HEADS": 3, "HEAD_DIM": 8, "POS_W": 12},
    )


@pytest.mark.rtl
@pytest.mark.slow
def test_kv_cache_ctrl_default():
    """Default parameters (S=4, W=1020, 32 heads, head_dim 128, 32-bit positions): writes and
    queries only (the decode walk would take 2000+ tokens x 32 heads)."""
    sim.run_primitive(
        "kv_cache_ctrl",
        __file__,
        testcase=["writes_follow_lambda_rule", "queries_list_visible_slots"],
    )
