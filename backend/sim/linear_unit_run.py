"""Run rtl_lib's `linear_unit` on W2 and int8 layers and check every output against the contract.

The one harness of the MAC unit, shared by its cocotb test (`rtl_lib/tests/test_linear_unit.py`),
the estimator's validation (`test/backend/test_perf_validation.py`) and the simulation benchmark
(`bench/sim_bench.py`):

* `LinearJob`: one descriptor's worth (layer shape, row split, HBM word addresses, activation
  buffer words), either read off an accel module as lowered (`jobs_from_module`: the
  `accel.linear`s with their `accel.hbm_region`s and `accel.buffer`s) or packed back to back
  (`packed_jobs`);
* `run_jobs(dut, jobs, timing, rng)` (inside a cocotb test): random compressed layers and A8
  inputs, laid out in HBM exactly as the backend lays them out (`backend.accel_program`), served
  by the behavioural HBM model (`backend.sim.hbm`), the descriptors run back to back; every
  written Q15.16 output must equal `contract.linear_w2a8` (W2 jobs) or `contract.linear_int8`
  (int8 jobs, the LM head; or the caller's `Int8Case`: given weights, inputs and expected
  logits) and nothing else may be written.
  Returns the cycles of each descriptor: from the clock edge that accepts the command to the
  edge after which `done` is high.
* `simulate(parameters, jobs, timing, seed)` (from pytest or a script): builds (cached) and runs
  the above through the `linear_unit_job` cocotb test of this module; returns the cycles and the
  wall time.

`timing_for_target` gives the HBM timing a target's engine sees: each channel (weights and the
misc channel with the metadata) delivers the target's words per cycle; a command's first word
arrives after the HBM read latency plus the fixed latency of `rtl_lib/axi_read_master.sv`, which
the behavioural channel stands in for (AR 2 cycles after the command, a word on the stream 1
cycle after its R handshake: docs/rtl_lib.md).  What the behavioural channel does not model:
AXI burst splitting and the master's one-command-at-a-time round trip.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.backend.sim.hbm import HbmChannel, Ports, serve
from accllm.backend.target_desc import TargetDesc, derive_engine
from accllm.numerics import contract as ct

AXI_MASTER_LATENCY = 3  # axi_read_master: AR 2 cycles after the command + R -> stream 1 cycle
ACT_WORD_BYTES = tiling.WORD_BITS // 8
JOB_ENV = "ACCLLM_LINEAR_UNIT_JOB"
OUT_ENV = "ACCLLM_LINEAR_UNIT_OUT"
STUCK_CYCLES = 500_000


@dataclass(frozen=True)
class HbmTiming:
    """What the unit's HBM channels do: read latency (cycles from an accepted command to its
    first word) and words per cycle of the weight channels and of the metadata (misc) channel."""

    latency: int
    weight_wpc: float
    meta_wpc: float


@dataclass(frozen=True)
class LinearJob:
    """One `accel.linear` as the MAC unit runs it (addresses in 256-bit words); `precision`
    "w2" (2:4 W2, group `group`) or "int8" (the LM head; `group` is k, as lowered)."""

    n: int
    k: int
    group: int
    tokens: int
    rows_per_channel: int
    w_base: int  # weight tile word address, the same on every weight channel
    meta_base: int  # metadata records, misc channel
    x_base: int  # activation-buffer word of the A8 input (rows, then exponent bytes)
    y_base: int  # activation-buffer word of the int32 output
    precision: str = "w2"

    def split(self, lanes: int) -> tiling.RowSplit:
        per = self.rows_per_channel
        return tiling.RowSplit(
            per, tiling.ceil_div(self.n, per), tiling.ceil_div(per, lanes), lanes
        )


def timing_for_target(target: TargetDesc) -> HbmTiming:
    """Every channel of `target` at its words per cycle (the lowering's rule, `derive_engine`);
    latency = the HBM's + axi_read_master's."""
    wpc = derive_engine(target).words_per_cycle
    return HbmTiming(target.hbm.latency_cycles + AXI_MASTER_LATENCY, wpc, wpc)


def unit_parameters(
    ch: int, lanes: int, blocks: int, jobs: Sequence[LinearJob], i8_macs: int = 8
) -> dict[str, int]:
    """linear_unit parameters for an engine (channels x lanes x blocks) running `jobs`.

    MW is the metadata words per row of every W2 job (the unit slices records MW words apart, so
    the W2 jobs of one build must agree; int8 metadata is 32-bit slots, whatever MW); MAX_K the
    largest input row; I8_MACS the int8 products per cycle per channel (`tiling.int8_macs`)."""
    mws = {tiling.w2_meta_words_per_row(j.k, j.group) for j in jobs if j.precision == "w2"}
    if len(mws) > 1:
        raise ValueError(f"jobs need different metadata words per row {sorted(mws)}: split them")
    return {
        "CH": ch,
        "LANES": lanes,
        "BLOCKS": blocks,
        "MAX_K": max(j.k for j in jobs),
        "MW": mws.pop() if mws else 1,
        "I8_MACS": i8_macs,
    }


def packed_jobs(layers: Sequence[tuple], ch: int, lanes: int) -> list[LinearJob]:
    """(n, k, group, tokens[, precision]) layers laid out back to back (rows split evenly over
    `ch`); an int8 layer's group is ignored (set to k, as the lowering does)."""
    jobs, w_next, m_next, a_next = [], 0, 0, 0
    for n, k, group, tokens, *prec in layers:
        precision = prec[0] if prec else "w2"
        per = tiling.ceil_div(n, ch)
        split = tiling.RowSplit(per, tiling.ceil_div(n, per), tiling.ceil_div(per, lanes), lanes)
        y_base = a_next + tiling.act_words(tokens, k, 8, True)
        if precision == "int8":
            group = k
        job = LinearJob(n, k, group, tokens, per, w_next, m_next, a_next, y_base, precision)
        jobs.append(job)
        if precision == "int8":
            w_next += split.padded_rows * tiling.int8_words_per_row(k)
            m_next += tiling.int8_meta_region_words(split)
        else:
            w_next += split.padded_rows * ct.words_per_row(k)
            m_next += ap.meta_region_words(n, k, group, split)
        a_next = y_base + tiling.act_words(tokens, n, 32, False)
    return jobs


def jobs_from_module(module) -> tuple[dict[str, int], list[LinearJob]]:
    """The engine (CH, LANES, BLOCKS) and the `accel.linear`s (W2 and int8) of an accel module,
    in program order, with the addresses the lowering gave their regions and buffers."""
    from accllm.dialects import accel

    ops = list(module.ops)
    engine = next(o for o in ops if isinstance(o, accel.EngineOp))
    regions = {o.sym_name.data: o for o in ops if isinstance(o, accel.HBMRegionOp)}
    buffers = {o.sym_name.data: o for o in ops if isinstance(o, accel.BufferOp)}

    def word(op) -> int:
        off = op.offset.value.data
        if off % ACT_WORD_BYTES:
            raise ValueError(f"{op.sym_name.data}: offset {off} is not word aligned")
        return off // ACT_WORD_BYTES

    jobs = []
    for sched in (o for o in ops if isinstance(o, accel.ScheduleOp)):
        for op in sched.body.block.ops:
            if not isinstance(op, accel.LinearOp):
                continue
            w_bases = {word(regions[r.root_reference.data]) for r in op.weights.data}
            if len(w_bases) != 1:
                raise ValueError(f"{op}: weight tiles at different offsets {sorted(w_bases)}")
            jobs.append(
                LinearJob(
                    n=op.n.value.data,
                    k=op.k.value.data,
                    group=op.group.value.data,
                    tokens=op.tokens.value.data,
                    rows_per_channel=op.rows_per_channel.value.data,
                    w_base=w_bases.pop(),
                    meta_base=word(regions[op.metadata.root_reference.data]),
                    x_base=word(buffers[op.input.root_reference.data]),
                    y_base=word(buffers[op.output.root_reference.data]),
                    precision=op.precision.data,
                )
            )
    eng = {
        "CH": engine.get("weight_channels"),
        "LANES": engine.get("lanes_per_channel"),
        "BLOCKS": engine.get("mac_blocks"),
    }
    return eng, jobs


# --------------------------------------------------------------------------------------------
# Inside the simulation (cocotb)
# --------------------------------------------------------------------------------------------


def random_layer(rng, n: int, k: int, group: int) -> ct.W2Linear:
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


def act_words(x_q, f_x) -> list[int]:
    """A8 rows (k/32 words each) then per-token exponent bytes, as tiling.act_words lays out."""
    _, k = x_q.shape
    words = []
    for row in x_q:
        b = (row.astype(np.int64) & 0xFF).astype(np.uint8).tobytes()
        words += [int.from_bytes(b[i : i + 32], "little") for i in range(0, k, 32)]
    fb = (np.asarray(f_x, dtype=np.int64) & 0xFF).astype(np.uint8).tobytes()
    fb += bytes(-len(fb) % 32)
    words += [int.from_bytes(fb[i : i + 32], "little") for i in range(0, len(fb), 32)]
    return words


@dataclass(frozen=True)
class Int8Case:
    """Given data of an int8 job: weights (int8 [N, K]), row mantissas and exponents, the A8
    input (x_q [T, K], f_x [T]) and the logits the unit must write ([T, N], e.g. from
    `golden.lm_head_block`)."""

    w_q: np.ndarray
    mult: np.ndarray
    exp: np.ndarray
    x_q: np.ndarray
    f_x: np.ndarray
    want: np.ndarray


def random_int8_case(rng, n: int, k: int, tokens: int) -> Int8Case:
    """Random int8 weights and scales in the contract's ranges (|w| <= 127, 16-bit M, e in
    [8, 47]: right shifts, a few exact left shifts and saturations), random A8 input."""
    w_q = rng.integers(-127, 128, size=(n, k))
    mult = rng.integers(1, 1 << 16, size=n)
    exp = rng.integers(8, 48, size=n)
    x_q = rng.integers(-127, 128, size=(tokens, k))
    f_x = rng.integers(0, 8, size=tokens)
    return Int8Case(w_q, mult, exp, x_q, f_x, ct.linear_int8(x_q, f_x, w_q, mult, exp))


class Memories:
    """Descriptor ROM and activation buffer models (one-cycle read latency, lane writes)."""

    def __init__(self, dut, desc: dict[int, int], act: dict[int, int]):
        self.dut, self.desc, self.act, self.writes = dut, desc, act, []

    async def run(self) -> None:
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


def _channels(ch: int, hbm: list[dict], meta: dict, timing: HbmTiming) -> list[HbmChannel]:
    w = [
        HbmChannel(
            Ports(
                "w_cmd_valid", "w_cmd_ready", "w_cmd_addr", "w_cmd_len",
                "w_valid", "w_ready", "w_data", index=c,
            ),
            hbm[c],
            timing.latency,
            timing.weight_wpc,
        )
        for c in range(ch)
    ]  # fmt: skip
    m = HbmChannel(
        Ports(
            "m_cmd_valid", "m_cmd_ready", "m_cmd_addr", "m_cmd_len", "m_valid", "m_ready", "m_data"
        ),
        meta,
        timing.latency,
        timing.meta_wpc,
    )
    return [*w, m]


@dataclass
class RunStats:
    """Clock cycles and wall seconds of the descriptor runs alone (no set-up, no check)."""

    cycles: int = 0
    wall_s: float = 0.0


async def run_jobs(
    dut,
    jobs: Sequence[LinearJob],
    timing: HbmTiming,
    rng,
    stats: RunStats | None = None,
    cases: dict[int, Int8Case] | None = None,
) -> list[int]:
    """Run `jobs` back to back on the DUT (parameters from `sim.test_parameters()`); assert the
    outputs bit for bit; return each descriptor's cycles (accepting edge to `done`).  `stats`,
    if given, receives the cycles and wall time of the runs (for cycles per second); `cases`
    gives the data of int8 jobs by index (others get `random_int8_case`)."""
    from accllm.rtl_lib import sim
    from accllm.rtl_lib.stream import clock_and_reset

    p = sim.test_parameters()
    ch, lanes, blocks = p["CH"], p["LANES"], p["BLOCKS"]
    hbm: list[dict[int, int]] = [{} for _ in range(ch)]
    meta_mem: dict[int, int] = {}
    desc: dict[int, int] = {}
    act: dict[int, int] = {}
    expect = []  # (y_base, n, want [T, N])
    for idx, j in enumerate(jobs):
        split = j.split(lanes)
        if j.precision == "int8":
            case = (cases or {}).get(idx) or random_int8_case(rng, j.n, j.k, j.tokens)
            assert case.w_q.shape == (j.n, j.k) and case.x_q.shape == (j.tokens, j.k)
            for c, words in enumerate(ap.int8_weight_image(case.w_q, split)):
                hbm[c].update({j.w_base + i: w for i, w in enumerate(words)})
            meta = ap.int8_meta_image(case.mult, case.exp, split)
            meta_mem.update({j.meta_base + i: w for i, w in enumerate(meta)})
            act.update({j.x_base + i: w for i, w in enumerate(act_words(case.x_q, case.f_x))})
            d = ap.int8_descriptor(
                w_base_bytes=j.w_base * ACT_WORD_BYTES,
                meta_base_bytes=j.meta_base * ACT_WORD_BYTES,
                x_base=j.x_base,
                y_base=j.y_base,
                n=j.n,
                k=j.k,
                tokens=j.tokens,
                split=split,
            )
            desc[idx] = d.pack()
            expect.append((j.y_base, j.n, np.asarray(case.want)))
            continue
        lin = random_layer(rng, j.n, j.k, j.group)
        for c, words in enumerate(ap.w2_weight_image(lin, split)):
            hbm[c].update({j.w_base + i: w for i, w in enumerate(words)})
        meta = ap.w2_meta_image(lin, split)
        meta_mem.update({j.meta_base + i: w for i, w in enumerate(meta)})
        x_q = rng.integers(-127, 128, size=(j.tokens, j.k))
        f_x = rng.integers(0, 8, size=j.tokens)
        act.update({j.x_base + i: w for i, w in enumerate(act_words(x_q, f_x))})
        d = ap.linear_descriptor(
            w_base_bytes=j.w_base * ACT_WORD_BYTES,
            meta_base_bytes=j.meta_base * ACT_WORD_BYTES,
            x_base=j.x_base,
            y_base=j.y_base,
            n=j.n,
            k=j.k,
            group=j.group,
            tokens=j.tokens,
            split=split,
            mac_blocks=blocks,
        )
        desc[idx] = d.pack()
        expect.append((j.y_base, j.n, ct.linear_w2a8(x_q, f_x, lin)))
    mems = Memories(dut, desc, act)
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    dut.w_valid.value = 0
    dut.w_data.value = 0
    await clock_and_reset(dut)
    cocotb.start_soon(mems.run())
    cocotb.start_soon(serve(dut, dut.clk, _channels(ch, hbm, meta_mem, timing)))
    cycles = []
    t0 = time.perf_counter()
    for idx in range(len(jobs)):
        dut.cmd_payload.value = idx
        dut.cmd_valid.value = 1
        await RisingEdge(dut.clk)
        while not int(dut.cmd_ready.value):
            await RisingEdge(dut.clk)
        dut.cmd_valid.value = 0
        t = 0
        while not int(dut.done.value):
            await RisingEdge(dut.clk)
            t += 1
            assert t < STUCK_CYCLES, f"linear_unit stuck in state {int(dut.st.value)}"
        cycles.append(t)
    if stats is not None:
        stats.cycles, stats.wall_s = sum(cycles) + len(cycles), time.perf_counter() - t0
    got = {(a, lane): v for a, lane, v in mems.writes}
    want = {}
    for y_base, n, y in expect:
        for t in range(y.shape[0]):
            for o in range(n):
                want[(y_base + t * n // 8 + o // 8, o % 8)] = int(y[t, o])
    assert len(mems.writes) == len(want), f"{len(mems.writes)} writes, expected {len(want)}"
    bad = [(key, got.get(key), v) for key, v in want.items() if got.get(key) != v]
    assert not bad, f"{len(bad)} outputs differ, first: {bad[:4]}"
    return cycles


@cocotb.test()
async def linear_unit_job(dut):
    """The job in $ACCLLM_LINEAR_UNIT_JOB (see `simulate`); results to $ACCLLM_LINEAR_UNIT_OUT."""
    spec = json.loads(os.environ[JOB_ENV])
    jobs = [LinearJob(**j) for j in spec["jobs"]]
    rng = np.random.default_rng(spec["seed"])
    stats = RunStats()
    cycles = await run_jobs(dut, jobs, HbmTiming(**spec["timing"]), rng, stats)
    dut._log.info(f"linear_unit cycles per descriptor: {cycles}")
    out = {"cycles": cycles, "run_cycles": stats.cycles, "run_s": stats.wall_s}
    Path(os.environ[OUT_ENV]).write_text(json.dumps(out))


# --------------------------------------------------------------------------------------------
# From pytest / scripts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimRun:
    """Cycles of each descriptor; clock cycles and wall seconds of the descriptor runs (the
    HBM/memory models in Python included; build, layer generation and the check excluded)."""

    cycles: list[int]
    run_cycles: int
    run_s: float


def simulate(
    parameters: dict[str, int], jobs: Sequence[LinearJob], timing: HbmTiming, seed: int = 1
) -> SimRun:
    """Build (cached) linear_unit with `parameters` (over the primitive's defaults) and run
    `jobs`; raises AssertionError if an output differs from the contract."""
    from accllm.rtl_lib import sim
    from accllm.rtl_lib.primitives import get as get_primitive

    prim = get_primitive("linear_unit")
    params = {**prim.params, **parameters}
    spec = {"jobs": [asdict(j) for j in jobs], "timing": asdict(timing), "seed": seed}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        sim.run(
            __file__,
            prim.top,
            prim.source_paths(),
            params,
            testcase="linear_unit_job",
            extra_env={JOB_ENV: json.dumps(spec), OUT_ENV: str(out)},
        )
        res = json.loads(out.read_text())
    return SimRun(res["cycles"], res["run_cycles"], res["run_s"])
