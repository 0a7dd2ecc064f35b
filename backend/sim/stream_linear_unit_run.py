"""Run rtl_lib's `stream_linear_unit` on W2 and int8 layers and check every output against the
contract (`contract.linear_w2a8` / `contract.linear_int8`), bit for bit.

The harness of the stream-fed MAC unit, shared by its cocotb test
(`rtl_lib/tests/test_stream_linear_unit.py`) and the validation of its cost rule
(`test/backend/test_stream_linear_cost.py`):

* `StreamJob`: one descriptor's worth (layer shape, rows per channel, activation-buffer words);
  `packed_jobs` lays jobs out back to back;
* `run_jobs(dut, jobs, delivery, rng)` (inside a cocotb test): random compressed layers and A8
  inputs; each channel's stream words come from `backend.accel_program.w2_stream_image` /
  `int8_stream_image` (the layout the lowering will put in HBM) and are driven on the unit's
  stream ports by `Delivery`: beat i of a command's stream is offered from cycle
  ceil((i + 1) * words_per_beat / words_per_cycle) after the command is accepted (the
  prefetcher streams at the channel's rate from the program's start; a beat the unit refuses
  stays offered and the credit accumulates, as in the prefetcher's FIFO), with random idle
  cycles (`gap_prob`) for the functional test.  Every written output must equal the contract's
  and nothing else may be written.  Returns each descriptor's cycles (accepting edge to done).
* `simulate(parameters, jobs, delivery, seed)` (pytest / scripts): builds (cached) and runs the
  above through this module's `stream_linear_unit_job` test; returns the cycles.
* `random_layer`, `random_int8_case` (`Int8Case`: given int8 weights, input and expected
  logits), `act_words` (A8 rows + exponent bytes as activation-buffer words; also used by
  `rtl_lib/tests/test_vector_unit.py`); the descriptor ROM and activation buffer are
  `rtl_lib.stream.UnitMemories`.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.numerics import contract as ct

JOB_ENV = "ACCLLM_STREAM_LINEAR_JOB"
OUT_ENV = "ACCLLM_STREAM_LINEAR_OUT"
STUCK_CYCLES = 500_000


def random_layer(rng, n: int, k: int, group: int, bias: bool = False) -> ct.W2Linear:
    """A random compressed W2 layer in the contract's stored form; `bias`: with a random Q15.16
    bias, its first rows at the int32 extremes (the write stage's saturation)."""
    b = None
    if bias:
        b = rng.integers(-(1 << 20), 1 << 20, size=n)
        b[: min(n, 4)] = [(1 << 31) - 1, -(1 << 31), (1 << 31) - 1, -(1 << 31)][: min(n, 4)]
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
        bias=b,
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


@dataclass(frozen=True)
class Delivery:
    """How the stream ports are fed: `words_per_cycle` 256-bit words per cycle per channel
    (the channel's rate; at most one beat per cycle), `gap_prob` the chance of an idle cycle
    even when a beat is due (random gaps; 0 for cycle measurements)."""

    words_per_cycle: float
    gap_prob: float = 0.0


@dataclass(frozen=True)
class StreamJob:
    """One `accel.linear` on the stream unit; `precision` "w2" or "int8" (`group` unused)."""

    n: int
    k: int
    group: int
    tokens: int
    rows_per_channel: int
    x_base: int
    y_base: int
    precision: str = "w2"
    bias: bool = False  # a W2 layer with a bias (its rows carry it in the stream)
    input_k: int = 0  # W2: the activations' K when k is zero-padded past it (0: k)

    def split(self, lanes: int) -> tiling.RowSplit:
        return tiling.split_per_channel(self.n, self.rows_per_channel, lanes)

    def layout(self, lanes: int, words_per_beat: int) -> tiling.StreamLayout:
        return tiling.stream_layout(
            self.n, self.k, self.group, self.precision, self.split(lanes), words_per_beat,
            self.bias,
        )  # fmt: skip


def packed_jobs(layers: Sequence[tuple], ch: int) -> list[StreamJob]:
    """(n, k, group, tokens[, precision[, bias[, input_k]]]) layers, rows split evenly over `ch`
    channels, their activations laid out back to back in the activation buffer."""
    jobs, a_next = [], 0
    for n, k, group, tokens, *opt in layers:
        precision = opt[0] if opt else "w2"
        bias = bool(opt[1]) if len(opt) > 1 else False
        input_k = int(opt[2]) if len(opt) > 2 else 0
        per = tiling.ceil_div(n, ch)
        y_base = a_next + tiling.act_words(tokens, k, 8, True)
        jobs.append(StreamJob(n, k, group if precision == "w2" else k, tokens, per, a_next,
                              y_base, precision, bias, input_k))  # fmt: skip
        a_next = y_base + tiling.act_words(tokens, n, 32, False)
    return jobs


def unit_parameters(
    ch: int, lanes: int, jobs: Sequence[StreamJob], dw: int = 256, tok: int = 4, **extra
) -> dict[str, int]:
    """stream_linear_unit parameters for `ch` channels of `lanes` lanes running `jobs`."""
    return {
        "CH": ch,
        "LANES": lanes,
        "DW": dw,
        "TOK": tok,
        "MAX_K": max(j.k for j in jobs),
        "BIAS": int(any(j.bias for j in jobs)),
        **extra,
    }


# --------------------------------------------------------------------------------------------
# Inside the simulation (cocotb)
# --------------------------------------------------------------------------------------------


class StreamDriver:
    """Drives the CH stream ports: per channel a queue of DW-bit beats, offered at the
    `Delivery` rate from the cycle `start()` is called."""

    def __init__(self, dut, ch: int, dw: int, delivery: Delivery):
        self.dut, self.ch, self.dw, self.d = dut, ch, dw, delivery
        self.wpb = dw // 256
        self.queues: list[list[int]] = [[] for _ in range(ch)]
        self.sent = [0] * ch
        self.cycle = 0

    def start(self, beats: list[list[int]]) -> None:
        self.queues = [list(b) for b in beats]
        self.sent = [0] * self.ch
        self.cycle = 0

    def _due(self, c: int) -> bool:
        i = self.sent[c]
        if i >= len(self.queues[c]):
            return False
        return self.cycle >= math.ceil((i + 1) * self.wpb / self.d.words_per_cycle - 1e-9)

    async def run(self) -> None:
        dut = self.dut
        while True:
            valid, data = 0, 0
            for c in range(self.ch):
                if self._due(c) and not (self.d.gap_prob and random.random() < self.d.gap_prob):
                    valid |= 1 << c
                    data |= self.queues[c][self.sent[c]] << (c * self.dw)
            dut.s_valid.value = valid
            dut.s_data.value = data
            await ReadOnly()
            ready = int(dut.s_ready.value)
            await RisingEdge(dut.clk)
            for c in range(self.ch):
                if valid >> c & 1 and ready >> c & 1:
                    self.sent[c] += 1
            self.cycle += 1


def beats_of(words: list[int], wpb: int) -> list[int]:
    """Stream words -> DW-bit beats (the lower address in the low bits)."""
    return [
        sum(w << (256 * j) for j, w in enumerate(words[i : i + wpb]))
        for i in range(0, len(words), wpb)
    ]


async def run_jobs(
    dut,
    jobs: Sequence[StreamJob],
    delivery: Delivery,
    rng,
    cases: dict[int, Int8Case] | None = None,
) -> list[int]:
    """Run `jobs` back to back on the DUT; assert the outputs bit for bit; return each
    descriptor's cycles (accepting edge to `done`)."""
    from accllm.rtl_lib import sim
    from accllm.rtl_lib.stream import UnitMemories, clock_and_reset

    p = sim.test_parameters()
    ch, lanes, dw = p["CH"], p["LANES"], p["DW"]
    blocks, tok, mfd = p.get("BLOCKS", 4), p["TOK"], p.get("MFD", 8)
    wpb = dw // 256
    desc: dict[int, int] = {}
    act: dict[int, int] = {}
    streams: list[list[list[int]]] = []
    expect = []
    for idx, j in enumerate(jobs):
        layout = j.layout(lanes, wpb)
        if j.precision == "int8":
            case = (cases or {}).get(idx) or random_int8_case(rng, j.n, j.k, j.tokens)
            image = ap.int8_stream_image(case.w_q, case.mult, case.exp, layout)
            x_q, f_x, want = case.x_q, case.f_x, np.asarray(case.want)
        else:
            lin = random_layer(rng, j.n, j.k, j.group, j.bias)
            image = ap.w2_stream_image(lin, layout)
            x_q = rng.integers(-127, 128, size=(j.tokens, j.input_k or j.k))
            f_x = rng.integers(0, 8, size=j.tokens)
            want = ct.linear_w2a8(x_q, f_x, lin)
        # A row's bytes past its K (a zero-padded K, an int8 k of part of a word) hold garbage:
        # the unit must read them as zeros.
        garbage = rng.integers(1, 128, size=(x_q.shape[0], tiling.stream_k(x_q.shape[1])))
        garbage[:, : x_q.shape[1]] = x_q
        act.update({j.x_base + i: w for i, w in enumerate(act_words(garbage, f_x))})
        d = ap.stream_linear_descriptor(
            layout,
            x_base=j.x_base,
            y_base=j.y_base,
            n=j.n,
            k=j.k,
            group=j.group,
            tokens=j.tokens,
            mac_blocks=blocks,
            max_tokens=tok,
            meta_fifo_words=mfd,
            input_k=j.input_k or None,
        )
        desc[idx] = d.pack()
        beats = [beats_of(words, wpb) for words in image]
        beats += [[] for _ in range(ch - len(beats))]
        streams.append(beats)
        expect.append((j.y_base, j.n, want))
    mems = UnitMemories(dut, desc, act)
    drv = StreamDriver(dut, ch, dw, delivery)
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    dut.s_valid.value = 0
    dut.s_data.value = 0
    await clock_and_reset(dut)
    cocotb.start_soon(mems.run())
    cocotb.start_soon(drv.run())
    cycles = []
    for idx in range(len(jobs)):
        dut.cmd_payload.value = idx
        dut.cmd_valid.value = 1
        await RisingEdge(dut.clk)
        while not int(dut.cmd_ready.value):
            await RisingEdge(dut.clk)
        drv.start(streams[idx])
        dut.cmd_valid.value = 0
        t = 0
        while not int(dut.done.value):
            await RisingEdge(dut.clk)
            t += 1
            assert t < STUCK_CYCLES, f"stream_linear_unit stuck in state {int(dut.st.value)}"
        left = [len(q) - s for q, s in zip(drv.queues, drv.sent, strict=True)]
        assert not any(left), f"descriptor {idx} done with stream beats unread: {left}"
        cycles.append(t)
    lane_writes = mems.lane_writes()
    got = {(a, lane): v for a, lane, v in lane_writes}
    want = {}
    for y_base, n, y in expect:
        for t in range(y.shape[0]):
            for o in range(n):
                want[(y_base + t * n // 8 + o // 8, o % 8)] = int(y[t, o])
    assert len(lane_writes) == len(want), f"{len(lane_writes)} writes, expected {len(want)}"
    bad = [(key, got.get(key), v) for key, v in want.items() if got.get(key) != v]
    assert not bad, f"{len(bad)} outputs differ, first: {bad[:4]}"
    return cycles


@cocotb.test()
async def stream_linear_unit_job(dut):
    """The job in $ACCLLM_STREAM_LINEAR_JOB (see `simulate`); cycles to $ACCLLM_STREAM_LINEAR_OUT
    as JSON."""
    spec = json.loads(os.environ[JOB_ENV])
    jobs = [StreamJob(**j) for j in spec["jobs"]]
    rng = np.random.default_rng(spec["seed"])
    random.seed(spec["seed"])
    cycles = await run_jobs(dut, jobs, Delivery(**spec["delivery"]), rng)
    dut._log.info(f"stream_linear_unit cycles per descriptor: {cycles}")
    Path(os.environ[OUT_ENV]).write_text(json.dumps({"cycles": cycles}))


# --------------------------------------------------------------------------------------------
# From pytest / scripts
# --------------------------------------------------------------------------------------------


def simulate(
    parameters: dict[str, int], jobs: Sequence[StreamJob], delivery: Delivery, seed: int = 1
) -> list[int]:
    """Build (cached) stream_linear_unit with `parameters` (over the primitive's defaults) and
    run `jobs`; raises AssertionError if an output differs from the contract."""
    from accllm.rtl_lib import sim
    from accllm.rtl_lib.primitives import get as get_primitive

    prim = get_primitive("stream_linear_unit")
    params = {**prim.params, **parameters}
    spec = {"jobs": [asdict(j) for j in jobs], "delivery": asdict(delivery), "seed": seed}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        sim.run(
            __file__,
            prim.top,
            prim.source_paths(),
            params,
            testcase="stream_linear_unit_job",
            extra_env={JOB_ENV: json.dumps(spec), OUT_ENV: str(out)},
        )
        return json.loads(out.read_text())["cycles"]
