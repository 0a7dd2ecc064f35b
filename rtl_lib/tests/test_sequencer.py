"""sequencer RTL vs the ISA's reference execution order (`accllm.rtl_lib.isa.expand`).

Programs are random nests of LOOP/ENDLOOP (up to LOOP_DEPTH deep), DISPATCH (random units and
payloads, including the all-zero and all-one payloads), BARRIER (random unit sets, empty and full)
and NOP, encoded by `isa.encode_program`. A memory model answers fetches after random delays with
random fetch back-pressure; unit models accept commands under random back-pressure, keep several
in flight and report completion after random latencies. Checked: the dispatched (unit, payload)
sequence equals `expand`; every command dispatched before a BARRIER to a unit in its set completed
before any later command was accepted (and commands not separated by a barrier do overlap, so the
barrier check can fail); no unit ever has more than 2^OUTST_W - 1 commands outstanding; `done`
rises only after every command completed. Error tests feed illegal words (also rejected by
`isa.decode`), loop-stack overflow/underflow, running off the end of the program and a spurious
completion pulse, and check `err_code`/`err_pc`.
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.simtime import get_sim_time
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.rtl_lib import isa, sim
from accllm.rtl_lib.stream import clock_and_reset

PERIOD_NS = 10
PAYLOAD_EDGES = (0, (1 << isa.PAYLOAD_BITS) - 1, 1, 1 << (isa.PAYLOAD_BITS - 1))


def _cycle() -> int:
    return int(get_sim_time("ns")) // PERIOD_NS


def _block(rng: random.Random, units: int, depth: int, max_depth: int, size: int) -> list:
    out: list = []
    for _ in range(size):
        r = rng.random()
        if r < 0.2 and depth < max_depth:
            out.append(isa.Loop(rng.choice((1, 1, 2, 3))))
            out += _block(rng, units, depth + 1, max_depth, rng.randint(0, 4))
            out.append(isa.EndLoop())
        elif r < 0.35:
            kind = rng.random()
            if kind < 0.15:
                out.append(isa.Barrier([]))
            elif kind < 0.3:
                out.append(isa.Barrier(range(units)))
            else:
                out.append(isa.Barrier(u for u in range(units) if rng.random() < 0.4))
        elif r < 0.4:
            out.append(isa.Nop())
        else:
            payload = (
                rng.choice(PAYLOAD_EDGES)
                if rng.random() < 0.2
                else rng.getrandbits(isa.PAYLOAD_BITS)
            )
            out.append(isa.Dispatch(rng.randrange(units), payload))
    return out


def random_program(rng: random.Random, units: int, loop_depth: int) -> list:
    """A random program ending in HALT whose expansion dispatches 20..250 commands and that
    nests loops exactly `loop_depth` deep at least once."""
    while True:
        deepest: list = [isa.Dispatch(rng.randrange(units), rng.getrandbits(isa.PAYLOAD_BITS))]
        for _ in range(loop_depth):
            deepest = [isa.Loop(2), *deepest, isa.EndLoop()]
        body = _block(rng, units, 0, loop_depth, 25)
        level, top_level = 0, [0]  # cut points outside every loop of `body`
        for i, instr in enumerate(body):
            level += isinstance(instr, isa.Loop) - isinstance(instr, isa.EndLoop)
            if level == 0:
                top_level.append(i + 1)
        cut = rng.choice(top_level)
        prog = body[:cut] + deepest + body[cut:] + [isa.Halt()]
        n = sum(isinstance(i, isa.Dispatch) for i in isa.expand(prog))
        if 20 <= n <= 250:
            return prog


class Harness:
    """Instruction memory and unit models around the DUT, one coroutine stepping every cycle."""

    def __init__(self, dut, units: int, outst_max: int) -> None:
        self.dut, self.units, self.outst_max = dut, units, outst_max
        self.mem: list[int] = []
        self.fill = isa.encode(isa.Nop())  # word returned beyond the end of `mem`
        self.accepts: list[tuple[int, int, int]] = []  # (cycle, unit, payload)
        self.completes: dict[int, int] = {}  # index in accepts -> cycle of its done pulse
        self.inflight: list[list[tuple[int, int]]] = [[] for _ in range(units)]  # (due, index)
        self.max_latency = 12
        self.spurious_at: int | None = None  # cycle at which to pulse a done with nothing due
        self.fetch_pending: int | None = None
        self.rsp_delay = 0

    def reset_log(self) -> None:
        self.accepts.clear()
        self.completes.clear()

    async def run(self) -> None:
        dut = self.dut
        while True:
            now = _cycle()
            # Inputs for this cycle.
            dut.fetch_ready.value = int(self.fetch_pending is None and random.random() < 0.7)
            rsp = self.fetch_pending is not None and self.rsp_delay == 0
            dut.ins_valid.value = int(rsp)
            if rsp:
                a = self.fetch_pending
                dut.ins_data.value = self.mem[a] if a < len(self.mem) else self.fill
            ready = sum(1 << u for u in range(self.units) if random.random() < 0.6)
            done = 0
            for u, q in enumerate(self.inflight):
                if q and q[0][0] <= now:
                    done |= 1 << u
            if self.spurious_at == now:
                done |= 1 << (self.units - 1)
            dut.cmd_ready.value = ready
            dut.unit_done.value = done
            await ReadOnly()
            if rsp and dut.ins_ready.value == 1:
                self.fetch_pending = None
            elif self.fetch_pending is not None:
                self.rsp_delay = max(0, self.rsp_delay - 1)
            if dut.fetch_valid.value == 1 and dut.fetch_ready.value == 1:
                self.fetch_pending = dut.fetch_addr.value.to_unsigned()
                self.rsp_delay = random.choice((0, 0, 1, 3))
            for u, q in enumerate(self.inflight):
                if done >> u & 1 and q:
                    self.completes[q.pop(0)[1]] = now
            fired = dut.cmd_valid.value.to_unsigned() & ready
            assert fired & (fired - 1) == 0, f"cycle {now}: several units dispatched at once"
            for u in range(self.units):
                if fired >> u & 1:
                    idx = len(self.accepts)
                    self.accepts.append((now, u, dut.cmd_payload.value.to_unsigned()))
                    due = now + random.randint(1, self.max_latency)
                    due = max(due, self.inflight[u][-1][0] + 1 if self.inflight[u] else due)
                    self.inflight[u].append((due, idx))
                    assert len(self.inflight[u]) <= self.outst_max, (
                        f"cycle {now}: unit {u} has {len(self.inflight[u])} commands outstanding"
                    )
            await RisingEdge(dut.clk)

    async def execute(self, words: list[int], timeout: int = 100_000) -> int:
        """Load `words`, pulse start, wait until the sequencer is idle; returns the cycle count."""
        self.mem = list(words)
        self.reset_log()
        dut = self.dut
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        t0 = _cycle()
        await RisingEdge(dut.clk)
        for _ in range(timeout):
            await ReadOnly()
            if dut.busy.value == 0:
                break
            await RisingEdge(dut.clk)
        else:
            raise AssertionError("sequencer still busy after the timeout")
        end = _cycle()
        await RisingEdge(dut.clk)
        return end - t0


async def _setup(dut) -> tuple[Harness, dict[str, int]]:
    p = sim.test_parameters()
    dut.start.value = 0
    dut.fetch_ready.value = 0
    dut.ins_valid.value = 0
    dut.ins_data.value = 0
    dut.cmd_ready.value = 0
    dut.unit_done.value = 0
    await clock_and_reset(dut, PERIOD_NS)
    h = Harness(dut, p["NUM_UNITS"], (1 << p["OUTST_W"]) - 1)
    cocotb.start_soon(h.run())
    return h, p


@cocotb.test()
async def random_programs_follow_reference(dut):
    """Dispatch order, payloads, barriers, HALT draining, on back-to-back random programs."""
    h, p = await _setup(dut)
    rng = random.Random(random.getrandbits(32))
    overlaps = 0
    for _ in range(6):
        prog = random_program(rng, p["NUM_UNITS"], p["LOOP_DEPTH"])
        words = isa.encode_program(prog, p["NUM_UNITS"], p["LOOP_DEPTH"])
        cycles = await h.execute(words)
        assert dut.error.value == 0, f"unexpected error code {dut.err_code.value}"
        assert dut.done.value == 1
        trace = isa.expand(prog)
        want = [(i.unit, i.payload) for i in trace if isinstance(i, isa.Dispatch)]
        got = [(u, pl) for _, u, pl in h.accepts]
        assert got == want, f"dispatch sequence differs at {_first_diff(got, want)}"
        assert len(h.completes) == len(h.accepts), "HALT finished before every command completed"
        done_cycle = h.completes and max(h.completes.values())
        assert done_cycle < _cycle(), "done rose before the last completion"
        # Barrier ordering: k = number of dispatches before the barrier.
        k = 0
        fence: dict[int, int] = {}  # dispatch index -> index of the first dispatch after a
        for instr in trace:  # barrier covering its unit
            if isinstance(instr, isa.Dispatch):
                k += 1
            elif isinstance(instr, isa.Barrier):
                for j in range(k):
                    if h.accepts[j][1] in instr.units and j not in fence:
                        fence[j] = k
        for j, after in fence.items():
            if after < len(h.accepts):
                assert h.completes[j] < h.accepts[after][0], (
                    f"command {j} (unit {h.accepts[j][1]}) completed at {h.completes[j]}, "
                    f"after command {after} was accepted at {h.accepts[after][0]} past a barrier"
                )
        overlaps += sum(
            1
            for j in range(len(h.accepts) - 1)
            if j not in fence and h.completes[j] >= h.accepts[j + 1][0]
        )
        dut._log.info("%d dispatches in %d cycles", len(got), cycles)
    assert overlaps > 0, "no two commands were ever in flight together: barriers untested"


def _first_diff(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"index {i}: got {x}, want {y}"
    return f"length {len(a)} vs {len(b)}"


@cocotb.test()
async def errors_stop_with_code_and_pc(dut):
    """Illegal words, loop-stack misuse, running off the program end, spurious completions."""
    h, p = await _setup(dut)
    units, depth = p["NUM_UNITS"], p["LOOP_DEPTH"]
    enc = isa.encode
    d0 = enc(isa.Dispatch(0, 0x1234))
    halt = enc(isa.Halt())
    op = isa.OPCODE_SHIFT
    illegal_words = [
        0x6 << op,  # unknown opcode
        0xF << op | 1,
        enc(isa.Nop()) | 1 << 20,  # reserved bits
        enc(isa.Halt()) | 1 << 59,
        enc(isa.EndLoop()) | 1,
        isa.Opcode.LOOP << op,  # count 0
        enc(isa.Loop(3)) | 1 << 40,
        enc(isa.Barrier([0])) | 1 << 16,
    ]
    cases: list[tuple[list[int], isa.ErrorCode, int, int]] = []  # words, code, pc, dispatches
    for w in illegal_words:
        with pytest.raises(isa.IsaError):
            isa.decode(w)
        cases.append(([d0, w, d0, halt], isa.ErrorCode.ILLEGAL, 1, 1))
    if units < isa.MAX_UNITS:  # unit indices that exist in the encoding but not in this build
        cases.append(([enc(isa.Dispatch(units, 5)), halt], isa.ErrorCode.ILLEGAL, 0, 0))
        cases.append(([d0, enc(isa.Barrier([units])), halt], isa.ErrorCode.ILLEGAL, 1, 1))
    nest = [enc(isa.Loop(1))] * (depth + 1)
    cases.append((nest + [d0, halt], isa.ErrorCode.LOOP_OVERFLOW, depth, 0))
    cases.append(
        (
            [d0, enc(isa.Loop(2)), enc(isa.EndLoop()), enc(isa.EndLoop()), halt],
            isa.ErrorCode.LOOP_UNDERFLOW,
            3,
            1,
        )
    )
    for words, code, pc, n in cases:
        await h.execute(words)
        assert dut.error.value == 1 and dut.done.value == 0, f"{words}: no error"
        assert dut.err_code.value.to_unsigned() == code, f"{words}: code {dut.err_code.value}"
        assert dut.err_pc.value.to_unsigned() == pc, f"{words}: pc {dut.err_pc.value}"
        assert len(h.accepts) == n, f"{words}: {len(h.accepts)} dispatches, want {n}"
        while any(h.inflight):  # let the units drain before the next case
            await RisingEdge(dut.clk)

    # No HALT: NOPs to the end of the address space, then PC_OVERFLOW at the last pc.
    await h.execute([])
    assert dut.err_code.value.to_unsigned() == isa.ErrorCode.PC_OVERFLOW
    assert dut.err_pc.value.to_unsigned() == (1 << p["PC_W"]) - 1

    # A completion pulse while nothing is outstanding.
    h.spurious_at = _cycle() + 8
    await h.execute([enc(isa.Nop())] * 40 + [halt])
    assert dut.err_code.value.to_unsigned() == isa.ErrorCode.SPURIOUS_DONE
    h.spurious_at = None

    # The sequencer recovers: a legal program afterwards runs to done.
    await h.execute([d0, halt])
    assert dut.error.value == 0 and dut.done.value == 1 and len(h.accepts) == 1


@pytest.mark.rtl
def test_sequencer_default():
    """Default parameters: 8 units, loop depth 4, 15 commands outstanding per unit."""
    sim.run_primitive("sequencer", __file__)


@pytest.mark.rtl
def test_sequencer_small():
    """3 units, loop depth 2, at most 3 outstanding commands: exercises the outstanding stall."""
    sim.run_primitive("sequencer", __file__, {"NUM_UNITS": 3, "LOOP_DEPTH": 2, "OUTST_W": 2})
