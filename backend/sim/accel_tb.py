"""cocotb bench of the accelerator top (run by `accllm.backend.sim.accelerator.run_accelerator`).

The job (`AccelJob` JSON, path in $ACCLLM_ACCEL_JOB) says what to load, which programs to run
and what to read back; the result (`AccelRun` JSON) goes to $ACCLLM_ACCEL_RESULT. With
`job.serve` set, the bench then serves program batches from the host over a socket
(`AccelServer`) until the host quits; $ACCLLM_ACCEL_PROGRESS names a file that gets one line per
finished program.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accllm.backend import accel_program_vector as apv
from accllm.backend.kernel_host import step_runner
from accllm.backend.sim.accelerator import (
    JOB_ENV,
    PROGRESS_ENV,
    AccelJob,
    AccelRun,
    _hex,
    _unhex,
)
from accllm.backend.sim.hbm import AxiHbm, serve_axi
from accllm.rtl_lib.stream import clock_and_reset

ALL_LANES = 0xFF


def _q15_row(words: dict[int, int], base: int, length: int) -> np.ndarray:
    """The int32 row of `length` values in the words from `base` (8 int32 lanes per word)."""
    out = []
    for i in range(length):
        v = words[base + i // 8] >> (32 * (i % 8)) & 0xFFFFFFFF
        out.append(v - (1 << 32) if v >> 31 else v)
    return np.array(out, dtype=np.int64)


class _Progress:
    """Appends one line per finished program to $ACCLLM_ACCEL_PROGRESS (when set): the host
    process follows the file to draw a progress bar while the simulator runs."""

    def __init__(self) -> None:
        path = os.environ.get(PROGRESS_ENV)
        self._file = open(path, "a", buffering=1) if path else None

    def tick(self) -> None:
        if self._file is not None:
            self._file.write(".\n")


async def _serve(address: str, run_steps, chans, channels) -> None:
    """Server mode (`accllm.backend.sim.accelerator.AccelServer`): connect to the host's socket
    at `address` and run each request's programs in order on the live design (its KV memory
    and buffers persist between requests), answering with their cycles and read-back words.
    One JSON object per line each way; `{"quit": true}` ends the simulation. A failing program
    (sequencer or AXI error, timeout) is answered with `{"error": message}`, then the
    simulation ends with that failure."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    rfile, wfile = sock.makefile("r"), sock.makefile("w")
    try:
        for line in rfile:  # blocking read: simulated time stands still while the host works
            req = json.loads(line)
            if req.get("quit"):
                break
            cycles: list[int] = []
            step_act: list[dict[int, int]] = []
            try:
                await run_steps(
                    req["programs"],
                    req["positions"],
                    [_unhex(m) for m in req["step_in"]],
                    [[tuple(r) for r in rs] for rs in req["step_reads"]],
                    cycles,
                    step_act,
                )
            except AssertionError as err:
                wfile.write(json.dumps({"error": str(err)}) + "\n")
                wfile.flush()
                raise
            reply = {
                "cycles": cycles,
                "step_act": [_hex(m) for m in step_act],
                "words_read": {c: ch.words_read for c, ch in zip(channels, chans, strict=True)},
            }
            wfile.write(json.dumps(reply) + "\n")
            wfile.flush()
    finally:
        sock.close()


@cocotb.test()
async def run_programs(dut):
    job = AccelJob.from_json(Path(os.environ[JOB_ENV]).read_text())
    dut.start.value = 0
    dut.prog_base.value = 0
    dut.host_we.value = 0
    dut.host_lane_we.value = 0
    dut.host_addr.value = 0
    dut.host_wdata.value = 0
    has_pos = hasattr(dut, "pos")  # attention or rope unit
    has_rope = hasattr(dut, "rope_tbl_we")
    if has_pos:
        dut.pos.value = 0
    if has_rope:
        dut.rope_tbl_we.value = 0
        dut.rope_tbl_sel.value = 0
        dut.rope_tbl_addr.value = 0
        dut.rope_tbl_data.value = 0
    # every unit's sticky error output present on this top
    unit_errs = [
        n
        for n in ("attn_err", "vec_err", "emb_err", "norm_err", "rope_err", "fetch_err")
        if hasattr(dut, n)
    ]
    has_fetch = hasattr(dut, "fetch_base")  # prefetchers: the host starts their programs too
    if has_fetch:
        dut.fetch_base.value = 0
    initial = {c: dict(m) for c, m in job.hbm.items()}
    chans = [
        AxiHbm(
            f"hbm{c}_", job.hbm.setdefault(c, {}), job.latency, job.words_per_cycle, job.data_bits
        )
        for c in job.channels
    ]
    # The table port reads the misc channel's memory (the same words) through its own
    # 256-bit AXI port: in the model it has its own bandwidth (tables are a few KB).
    if job.table_channel >= 0:
        chans.append(
            AxiHbm(
                "tbl_",
                job.hbm.setdefault(job.table_channel, {}),
                job.latency,
                min(1.0, job.words_per_cycle),
            )
        )
    await clock_and_reset(dut)
    cocotb.start_soon(serve_axi(dut, dut.clk, chans))
    chans = chans[: len(job.channels)]  # the stream channels (the table port is not counted)

    async def load(words: dict[int, int]) -> None:
        for addr, word in sorted(words.items()):
            dut.host_addr.value = addr
            dut.host_wdata.value = word
            dut.host_we.value = 1
            dut.host_lane_we.value = ALL_LANES
            await RisingEdge(dut.clk)
        dut.host_we.value = 0
        dut.host_lane_we.value = 0

    async def read(ranges) -> dict[int, int]:  # read data one cycle after the address
        act: dict[int, int] = {}
        for start, count in ranges:
            for addr in range(start, start + count):
                dut.host_addr.value = addr
                await RisingEdge(dut.clk)
                await ReadOnly()
                act[addr] = int(dut.host_rdata.value)
                await FallingEdge(dut.clk)  # back to a phase where inputs may change
        return act

    # 1. RoPE tables (rope_cmd_unit's write port), then inputs through the host port
    if job.rope_tables:
        assert has_rope, "rope tables given for a top without a rope unit"
        dut.rope_tbl_we.value = 1
        for sel, addr, value in job.rope_tables:
            dut.rope_tbl_sel.value = sel
            dut.rope_tbl_addr.value = addr
            dut.rope_tbl_data.value = value & 0xFFFF
            await RisingEdge(dut.clk)
        dut.rope_tbl_we.value = 0
    await load(job.act_in)

    # 2. the programs, one after the other
    cycles = []
    step_act: list[dict[int, int]] = []

    async def run_program(base: int, pos: int) -> int:
        if has_pos:
            dut.pos.value = pos
        if has_fetch:
            await ReadOnly()
            assert int(dut.fetch_idle.value), (
                f"before the program at {base}: a prefetcher still holds words the previous "
                "program fetched but did not consume (fetch program and units disagree)"
            )
            await FallingEdge(dut.clk)
            dut.fetch_base.value = job.fetch_bases[base]
        dut.prog_base.value = base
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        n = 1
        while True:
            await ReadOnly()
            if int(dut.error.value):
                raise AssertionError(
                    f"sequencer error code {int(dut.err_code.value)} at "
                    f"pc {int(dut.err_pc.value)} of the program at {base}"
                )
            assert not int(dut.hbm_err.value), "an AXI read returned an error response"
            for e in unit_errs:
                if int(getattr(dut, e).value):
                    raise AssertionError(f"{e} raised in the program at {base}")
            if int(dut.done.value):
                break
            await RisingEdge(dut.clk)
            n += 1
            assert n < job.max_cycles, f"program at {base} did not finish in {n} cycles"
        await RisingEdge(dut.clk)
        return n

    progress = _Progress()
    run_steps = step_runner(load, run_program, read, progress, lambda: FallingEdge(dut.clk))

    await run_steps(job.programs, job.positions, job.step_in, job.step_reads, cycles, step_act)
    if job.serve:  # 2a. server mode: the host sends program batches until it says quit
        await _serve(job.serve, run_steps, chans, job.channels)

    # 2b. greedy decode (job.greedy): the host takes the argmax of the last logits row, writes
    # that token's id into the decode program's id word (the accelerator's embedding unit
    # gathers the row) and runs the decode program at the next position.
    tokens: list[int] = []
    logits: list[list[int]] = []
    if job.greedy:
        g = job.greedy
        vocab = g["vocab"]
        await FallingEdge(dut.clk)
        row = _q15_row(
            await read([(g["first_logits_word"], vocab // 8)]), g["first_logits_word"], vocab
        )
        for step in range(g["steps"]):
            tok = int(np.argmax(row))
            tokens.append(tok)
            await load({g["ids_word"]: apv.embedding_ids_words([tok])[0]})
            cycles.append(await run_program(g["program"], g["pos0"] + step))
            progress.tick()
            await FallingEdge(dut.clk)
            row = _q15_row(await read([(g["logits_word"], vocab // 8)]), g["logits_word"], vocab)
            logits.append([int(v) for v in row])

    # 3. outputs through the host ports
    await FallingEdge(dut.clk)
    act = await read(job.reads)
    # HBM words the design changed (the KV rings): final value of every word that differs.
    written = {
        c: {a: w for a, w in job.hbm.get(c, {}).items() if initial.get(c, {}).get(a, 0) != w}
        for c in job.channels
    }
    run = AccelRun(
        cycles=cycles,
        act=act,
        words_read={c: ch.words_read for c, ch in zip(job.channels, chans, strict=True)},
        bursts={c: ch.bursts for c, ch in zip(job.channels, chans, strict=True)},
        step_act=step_act,
        hbm_written={c: m for c, m in written.items() if m},
        tokens=tokens,
        logits=logits,
    )
    Path(os.environ["ACCLLM_ACCEL_RESULT"]).write_text(run.to_json())
