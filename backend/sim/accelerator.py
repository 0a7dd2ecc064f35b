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

`AccelServer(design_dir, top, job)` starts the same bench in server mode and keeps the simulator
running: the host sends batches of programs (`run`), each answered with its cycles and the
words read back, while the design's state (KV memory, buffers, HBM contents) persists between
batches; `close` ends the simulation.  One Verilated build and one simulator process serve a
whole session of the runtime's `sim` backend (`accllm.runtime`).

The simulator's output (cocotb's log, Verilator's messages) goes to `log_file` when given,
never to the terminal; `progress(n)` is called with the number of programs finished so far.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accllm.numerics.contract import NUMERICS
from accllm.rtl_lib import sim

WORD_BITS = NUMERICS.word_bits

JOB_ENV = "ACCLLM_ACCEL_JOB"
KERNEL_TB_MODULE = "accllm.backend.sim.kernel_tb"  # the Vitis kernel through s_axi_control
PROGRESS_ENV = "ACCLLM_ACCEL_PROGRESS"
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
    # Server mode: the Unix socket the bench connects to after the programs above (AccelServer)
    serve: str = ""
    # kernel_tb (the Vitis kernel through s_axi_control): register name -> byte offset
    regmap: dict[str, int] = field(default_factory=dict)

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

    def written_bytes(self) -> dict[int, dict[int, int]]:
        """`hbm_written` as channel -> {byte address: value} (words little-endian)."""
        nb = WORD_BITS // 8
        return {
            c: {nb * a + i: w >> (8 * i) & 0xFF for a, w in m.items() for i in range(nb)}
            for c, m in self.hbm_written.items()
        }

    def check_kv_rings(self, module, cache, pipes: int) -> None:
        """Raise AssertionError unless HBM holds exactly `cache`'s Λ rings (a
        `golden.LambdaKVCache`, one layer per accel.hbm_region of kind kv, in order;
        `accel_program_attn.kv_ring_bytes`) and the design wrote nothing outside the KV
        regions."""
        from accllm.backend import accel_program_attn as apa
        from accllm.dialects import accel

        got = self.written_bytes()
        regions = [o for o in module.ops if isinstance(o, accel.HBMRegionOp)]
        kv = [o for o in regions if o.kind.data == "kv"]
        for layer, region in enumerate(kv):
            want = apa.kv_ring_bytes(cache, layer, region.offset.value.data, pipes)
            for c, image in want.items():
                bad = [a for a, b in image.items() if got.get(c, {}).get(a, 0) != b]
                assert not bad, f"layer {layer} channel {c}: KV ring bytes differ at {bad[:8]}"
        spans = [(o.offset.value.data, o.offset.value.data + o.bytes.value.data) for o in kv]
        stray = [
            (c, a)
            for c, m in got.items()
            for a, b in m.items()
            if b and not any(lo <= a < hi for lo, hi in spans)
        ]
        assert not stray, f"the design wrote HBM outside the KV regions: {stray[:4]}"

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


def design_sources(design_dir: Path) -> list[Path]:
    """The emitted design's sources, in `filelist.f` order."""
    names = (design_dir / "filelist.f").read_text().split()
    return [design_dir / n for n in names]


def _simulate(
    design_dir: Path,
    top: str,
    job: AccelJob,
    tdir: Path,
    log_file: str | os.PathLike | None,
    tb_module: str = TB_MODULE,
    coverage_file: str | os.PathLike | None = None,
) -> AccelRun:
    """Run the bench on `job` (working files in `tdir`); the AccelRun, or AssertionError with
    the bench's message (and where the log is).  With `coverage_file` the design is its
    toggle-coverage build and the counts of the whole run are written there."""
    from cocotb_tools.runner import get_runner

    bdir = sim.build(top, design_sources(design_dir), coverage=coverage_file is not None)
    sim.verilator_executable()  # puts the venv's verilator first on PATH for the runner
    runner = get_runner("verilator")
    if log_file is not None:  # its "Running command ..." INFO line belongs to the log, not here
        runner.log.setLevel(logging.WARNING)
    job_file, result_file = tdir / "job.json", tdir / "result.json"
    job_file.write_text(job.to_json())
    results = tdir / "results.xml"
    env = {JOB_ENV: str(job_file), "ACCLLM_ACCEL_RESULT": str(result_file)}
    env[PROGRESS_ENV] = str(tdir / "progress")
    try:
        runner.test(
            test_module=tb_module,
            hdl_toplevel=top,
            hdl_toplevel_lang="verilog",
            build_dir=bdir,
            test_dir=design_dir,  # $readmemh opens the ROM images relative to it
            results_xml=str(results),
            extra_env=env,
            seed=1,
            log_file=log_file,
            **sim.coverage_run_args(coverage_file),
        )
    except SystemExit:
        pass  # the runner exits on failures under pytest; the results file says which
    failures = []
    if results.exists():
        for case in ET.parse(results).getroot().iter("testcase"):
            for bad in list(case.iter("failure")) + list(case.iter("error")):
                failures.append(bad.get("message") or (bad.text or "").strip())
    if failures or not result_file.exists():
        where = f" (simulator log: {log_file})" if log_file else ""
        raise AssertionError(
            f"accelerator simulation of {top} failed: {'; '.join(failures) or 'no result'}{where}"
        )
    return AccelRun.from_json(result_file.read_text())


def _follow_progress(path: Path, progress: Callable[[int], None], stop: threading.Event) -> None:
    """Call `progress(lines in path)` whenever the bench appends to its progress file."""
    seen = 0
    while not stop.wait(0.2):
        try:
            n = path.read_bytes().count(b"\n")
        except FileNotFoundError:
            continue
        if n != seen:
            seen = n
            progress(n)


def run_accelerator(
    design_dir: str | os.PathLike,
    top: str,
    job: AccelJob,
    log_file: str | os.PathLike | None = None,
    progress: Callable[[int], None] | None = None,
    coverage_file: str | os.PathLike | None = None,
) -> AccelRun:
    """Simulate the emitted design in `design_dir` (see module doc); raises AssertionError with
    the bench's message if the run fails (sequencer error, AXI error, timeout).  The
    simulator's output goes to `log_file` (the terminal when None); `progress(n)` is called
    from a helper thread as programs finish; `coverage_file` runs the toggle-coverage build and
    writes its counts there (`accllm.backend.sim.activity`)."""
    design_dir = Path(design_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="accel-run-") as tdir:
        stop = threading.Event()
        watcher = None
        if progress is not None:
            watcher = threading.Thread(
                target=_follow_progress, args=(Path(tdir) / "progress", progress, stop), daemon=True
            )
            watcher.start()
        try:
            return _simulate(
                design_dir, top, job, Path(tdir), log_file, coverage_file=coverage_file
            )
        finally:
            stop.set()
            if watcher is not None:
                watcher.join()


class AccelServerError(RuntimeError):
    """The simulation behind an AccelServer failed or ended (the message says how)."""


@dataclass
class Batch:
    """What one `AccelServer.run` did: cycles per program, the words read back after each
    program, and the HBM words read per channel since the simulation started."""

    cycles: list[int]
    step_act: list[dict[int, int]]
    words_read: dict[int, int]


class AccelServer:
    """The emitted design under Verilator, kept running between batches of programs (module
    doc).  `job` says what is loaded first (HBM images, RoPE tables, `act_in`; its programs, if
    any, run first); `job.serve` is set here."""

    def __init__(
        self,
        design_dir: str | os.PathLike,
        top: str,
        job: AccelJob,
        log_file: str | os.PathLike | None = None,
        connect_timeout: float = 600.0,
        tb_module: str = TB_MODULE,
    ):
        self.top = top
        self.log_file = log_file
        self.tb_module = tb_module
        self._tdir = tempfile.TemporaryDirectory(prefix="accllm-srv-")  # short: AF_UNIX paths
        address = str(Path(self._tdir.name) / "s")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(address)
        self._listener.listen(1)
        self._listener.settimeout(0.5)
        job.serve = address
        self._error: BaseException | None = None
        self._run: AccelRun | None = None
        self._thread = threading.Thread(
            target=self._main,
            args=(Path(design_dir).resolve(), job),
            daemon=True,
        )
        self._thread.start()
        self._conn = self._accept(connect_timeout)
        self._rfile, self._wfile = self._conn.makefile("r"), self._conn.makefile("w")

    def _main(self, design_dir: Path, job: AccelJob) -> None:
        try:
            self._run = _simulate(
                design_dir, self.top, job, Path(self._tdir.name), self.log_file, self.tb_module
            )
        except BaseException as err:  # reported to the caller by run() / close()
            self._error = err

    def _ended(self) -> AccelServerError:
        where = f" (simulator log: {self.log_file})" if self.log_file else ""
        why = f": {self._error}" if self._error else ""
        return AccelServerError(f"the simulation of {self.top} ended{why}{where}")

    def _accept(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn, _ = self._listener.accept()
                conn.settimeout(None)
                return conn
            except TimeoutError:
                if not self._thread.is_alive():
                    self._cleanup()
                    raise self._ended() from None
        self._cleanup()
        raise AccelServerError(f"the simulation of {self.top} did not start in {timeout:.0f} s")

    def run(
        self,
        programs: list[int],
        positions: list[int],
        step_in: list[dict[int, int]],
        step_reads: list[list[tuple[int, int]]],
    ) -> Batch:
        """Run `programs` in order (program i at `positions[i]`, after loading `step_in[i]`
        through the host port, reading `step_reads[i]` back after it)."""
        req = {
            "programs": list(programs),
            "positions": list(positions),
            "step_in": [_hex(m) for m in step_in],
            "step_reads": [[list(r) for r in rs] for rs in step_reads],
        }
        try:
            self._wfile.write(json.dumps(req) + "\n")
            self._wfile.flush()
            line = self._rfile.readline()
        except OSError:
            line = ""
        if not line:
            self._thread.join(timeout=30)
            raise self._ended()
        reply = json.loads(line)
        if "error" in reply:
            self._thread.join(timeout=30)
            raise AccelServerError(f"accelerator simulation of {self.top}: {reply['error']}")
        return Batch(
            cycles=reply["cycles"],
            step_act=[_unhex(m) for m in reply["step_act"]],
            words_read={int(c): n for c, n in reply["words_read"].items()},
        )

    def close(self) -> None:
        """End the simulation (waits for the simulator to exit)."""
        if getattr(self, "_conn", None) is not None:
            try:
                self._wfile.write(json.dumps({"quit": True}) + "\n")
                self._wfile.flush()
            except OSError:
                pass
            self._conn.close()
            self._conn = None
        self._thread.join()
        self._cleanup()

    def _cleanup(self) -> None:
        self._listener.close()
        self._tdir.cleanup()

    def __enter__(self) -> AccelServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
