"""Whole-accelerator simulation: the emitted top (accel-to-hw + `--emit-verilog`) under
Verilator/cocotb, its AXI ports served by the behavioural HBM model.

`run_accelerator(design_dir, top, job)` builds the design listed in `design_dir/filelist.f`
(cached by `accllm.rtl_lib.sim.build`: same sources + parameters = same binary) and runs the
cocotb bench `accllm.backend.sim.accel_tb` with the simulator's working directory in
`design_dir`, where the ROM images (`$readmemh` files) are.  The bench:

1. writes `job.rope_tables` through the `rope_tbl_*` ports of a top with a rope unit and
   loads `job.act_in` into the activation buffer through the host port (cycles not counted);
2. runs each program base of `job.programs` in turn (`prog_base`, the runtime position
   `job.positions[i]` on the `pos` port of a top with an attention unit, a `start` pulse, until
   `done`; an `error` from the sequencer, an AXI error or a unit's sticky `*_err` fails the
   run), counting cycles from `start` to `done` per program; `job.step_in[i]` is loaded before
   program i and `job.step_reads[i]` read back after it (programs reuse buffer bytes, so
   a later program's input or an earlier one's output may share words with other programs);
3. reads back the activation-buffer words of `job.reads` through the host port, and reports
   every HBM word the design wrote (`AccelRun.hbm_written`: the KV rings).

The AXI channels are `backend/sim/hbm.AxiHbm` with the target's latency and per-channel words
per cycle (`accel_job` derives both from the target description).
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accllm.rtl_lib import sim

JOB_ENV = "ACCLLM_ACCEL_JOB"
TB_MODULE = "accllm.backend.sim.accel_tb"


@dataclass
class AccelJob:
    """What one simulation run does (JSON-serialisable; ints as hex strings for the images)."""

    channels: list[int]  # HBM channels with an AXI port on the top
    hbm: dict[int, dict[int, int]]  # channel -> word address -> word
    act_in: dict[int, int]  # activation-buffer word -> value, loaded before the first program
    programs: list[int]  # program bases to run, in order
    reads: list[tuple[int, int]]  # (first word, count) read back after the last program
    latency: int = 16
    words_per_cycle: float = 1.0
    max_cycles: int = 2_000_000
    positions: list[int] = field(default_factory=list)  # `pos` per program (default 0)
    step_in: list[dict[int, int]] = field(default_factory=list)  # loaded before program i
    step_reads: list[list[tuple[int, int]]] = field(default_factory=list)  # read after it
    # (sel, addr, value) written through the rope_tbl_* ports before the first program
    rope_tables: list[tuple[int, int, int]] = field(default_factory=list)
    data_bits: int = 256  # beat width of the stream ports hbm<c>_
    table_channel: int = -1  # the channel behind the top's tbl_ port (-1: none)
    fetch_bases: dict[int, int] = field(default_factory=dict)  # program base -> fetch base
    # Greedy decode after the programs (accel_tb): keys program, pos0, steps, vocab,
    # first_logits_word (last prefill logits row), logits_word (decode program's logits),
    # ids_word (where the decode program's embedding reads its token id).
    greedy: dict = field(default_factory=dict)

    def to_json(self) -> str:
        d = asdict(self)
        d["hbm"] = {str(c): {str(a): f"{w:x}" for a, w in m.items()} for c, m in self.hbm.items()}
        d["act_in"] = _hex(self.act_in)
        d["step_in"] = [_hex(m) for m in self.step_in]
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> AccelJob:
        d = json.loads(text)
        d["hbm"] = {int(c): {int(a): int(w, 16) for a, w in m.items()} for c, m in d["hbm"].items()}
        d["act_in"] = _unhex(d["act_in"])
        d["step_in"] = [_unhex(m) for m in d["step_in"]]
        d["reads"] = [tuple(r) for r in d["reads"]]
        d["step_reads"] = [[tuple(r) for r in rs] for rs in d["step_reads"]]
        d["rope_tables"] = [tuple(r) for r in d["rope_tables"]]
        d["fetch_bases"] = {int(k): v for k, v in d["fetch_bases"].items()}
        return cls(**d)


def _hex(m: dict[int, int]) -> dict[str, str]:
    return {str(a): f"{w:x}" for a, w in m.items()}


def _unhex(m: dict[str, str]) -> dict[int, int]:
    return {int(a): int(w, 16) for a, w in m.items()}


@dataclass
class AccelRun:
    """Result of a run: cycles per program, the words read back (at the end: `act`, `hbm_written`;
    after program i: `step_act[i]`), HBM traffic per channel."""

    cycles: list[int]
    act: dict[int, int]
    words_read: dict[int, int] = field(default_factory=dict)
    bursts: dict[int, int] = field(default_factory=dict)
    step_act: list[dict[int, int]] = field(default_factory=list)
    # channel -> {word address: final value} of every HBM word the design changed (KV rings)
    hbm_written: dict[int, dict[int, int]] = field(default_factory=dict)
    tokens: list[int] = field(default_factory=list)  # greedy decode: token fed at each step
    logits: list[list[int]] = field(default_factory=list)  # greedy decode: logits per step

    def to_json(self) -> str:
        d = asdict(self)
        d["act"] = _hex(self.act)
        d["step_act"] = [_hex(m) for m in self.step_act]
        d["hbm_written"] = {str(c): _hex(m) for c, m in self.hbm_written.items()}
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> AccelRun:
        d = json.loads(text)
        d["act"] = _unhex(d["act"])
        d["step_act"] = [_unhex(m) for m in d["step_act"]]
        d["hbm_written"] = {int(c): _unhex(m) for c, m in d["hbm_written"].items()}
        d["words_read"] = {int(c): n for c, n in d["words_read"].items()}
        d["bursts"] = {int(c): n for c, n in d["bursts"].items()}
        return cls(**d)


def accel_job(
    target_name: str,
    channels,
    hbm,
    act_in,
    programs,
    reads,
    **steps,
) -> AccelJob:
    """An `AccelJob` with the HBM timing of target `target_name`: its read latency, and the
    stream words per cycle one channel delivers at the engine clock (`derive_engine`'s rule,
    capped at one beat per cycle of `data_bits` (a `steps` key, default 256).
    `steps`: the optional per-program fields (positions, step_in, step_reads, ...)."""
    from accllm.backend.target_desc import load_target

    t = load_target(target_name)
    bytes_per_cycle = t.hbm.channel_bandwidth_gbps * 1e9 / (t.clock_mhz * 1e6)
    data_bits = steps.get("data_bits", 256)
    return AccelJob(
        channels=list(channels),
        hbm=hbm,
        act_in=act_in,
        programs=list(programs),
        reads=list(reads),
        latency=t.hbm.latency_cycles,
        words_per_cycle=min(data_bits / 256, bytes_per_cycle / 32),
        **steps,
    )


def top_job_fields(hw_module) -> dict:
    """The job fields an emitted top needs besides the programs: its stream beat width, the
    channel behind its table port and each program's fetch-program base (accel-to-hw's
    attributes), as `accel_job` keyword arguments."""
    top = hw_module.attributes["accel.top"].data
    progs = hw_module.attributes["accel.programs"].data
    fetch = hw_module.attributes.get("accel.fetch_programs")
    return {
        "data_bits": top["data_bits"].value.data,
        "table_channel": top["table_channel"].value.data,
        "fetch_bases": {
            progs[k].value.data: v.value.data for k, v in (fetch.data.items() if fetch else ())
        },
    }


def _sources(design_dir: Path) -> list[Path]:
    names = (design_dir / "filelist.f").read_text().split()
    return [design_dir / n for n in names]


def run_accelerator(design_dir: str | os.PathLike, top: str, job: AccelJob) -> AccelRun:
    """Simulate the emitted design in `design_dir` (see module doc); raises AssertionError with
    the bench's message if the run fails (sequencer error, AXI error, timeout)."""
    from cocotb_tools.runner import get_runner

    design_dir = Path(design_dir).resolve()
    bdir = sim.build(top, _sources(design_dir))
    sim.verilator_executable()  # puts the venv's verilator first on PATH for the runner
    with tempfile.TemporaryDirectory(prefix="accel-run-") as tdir:
        job_file, result_file = Path(tdir) / "job.json", Path(tdir) / "result.json"
        job_file.write_text(job.to_json())
        results = Path(tdir) / "results.xml"
        try:
            get_runner("verilator").test(
                test_module=TB_MODULE,
                hdl_toplevel=top,
                hdl_toplevel_lang="verilog",
                build_dir=bdir,
                test_dir=design_dir,  # $readmemh opens the ROM images relative to it
                results_xml=str(results),
                extra_env={JOB_ENV: str(job_file), "ACCLLM_ACCEL_RESULT": str(result_file)},
                seed=1,
            )
        except SystemExit:
            pass  # the runner exits on failures under pytest; the results file says which
        failures = []
        if results.exists():
            for case in ET.parse(results).getroot().iter("testcase"):
                for bad in list(case.iter("failure")) + list(case.iter("error")):
                    failures.append(bad.get("message") or (bad.text or "").strip())
        if failures or not result_file.exists():
            raise AssertionError(
                f"accelerator simulation of {top} failed: {'; '.join(failures) or 'no result'}"
            )
        return AccelRun.from_json(result_file.read_text())
