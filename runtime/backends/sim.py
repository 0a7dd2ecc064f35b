"""The `sim` backend: the accelerator as a card would run it, under Verilator — the Vitis RTL
kernel (`backend/vitis`: the emitted top inside its AXI4-Lite control slave and AXI4 masters)
driven through its registers, with a behavioural HBM behind the masters.

Opening the session generates the kernel around the build's top (into a temporary directory:
its Verilated build is cached by content in the user cache directory, so a second session
starts at once), packs the HBM images from the build's parameters, and starts one simulator
process that stays up for the session (`AccelServer` with the bench `backend/sim/kernel_tb`):
the host writes the masters' buffer addresses and the RoPE tables through the registers, then
every `run` sends the programs of a prompt chunk or a decode step — token ids written into the
activation buffer through the `host_*` registers, `prog_base` / `pos` written, `ap_start`, then
`ap_done` polled, the logits rows read back through `host_addr` / `host_rdata_*`, the error
status registers checked — and waits for their cycles (from the `ap_start` write to the read
that saw `ap_done`: what a host measures, a few cycles more than the accelerator's own count).
The KV cache lives in the accelerator between runs.

`reset` needs no work on the accelerator: the attention unit reads only the first
min(position, S + W) slots of each Λ ring (the fetch program's RINGs follow the position
register), so a new sequence at position 0 overwrites each slot before any query reads it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from accllm.runtime.backends import StepResult
from accllm.runtime.errors import SessionError


class SimBackend:
    name = "sim"

    def __init__(self, build, log_file=None):
        from accllm.backend.sim.accelerator import (
            KERNEL_TB_MODULE,
            AccelServer,
            AccelServerError,
        )
        from accllm.backend.vitis.package import write_kernel
        from accllm.backend.vitis.wrapper import KERNEL
        from accllm.runtime.backends.kernel_design import load_kernel_design

        build.require_design()
        if build.target != "sim":
            raise SessionError(
                f"{build.path} was lowered for the '{build.target}' target: only the small "
                "'sim' target is simulated (compile with --target sim, or use --backend golden)"
            )
        design = load_kernel_design(build)
        self._map = design.map
        self.vocab = design.map.vocab
        self.max_positions = design.max_positions
        self.clock_mhz = design.clock_mhz
        self.log_file = log_file if log_file is not None else build.path / "runtime-sim.log"
        self._kdir = tempfile.TemporaryDirectory(prefix="accllm-kernel-")
        kdir = Path(self._kdir.name)
        write_kernel(design.hw_module, build.path / "verilog", kdir, self.clock_mhz)
        (kdir / "filelist.f").write_text(
            (build.path / "verilog" / "filelist.f").read_text().rstrip() + f"\n{KERNEL}.sv\n"
        )
        try:
            self._server = AccelServer(
                kdir, KERNEL, design.job, self.log_file, tb_module=KERNEL_TB_MODULE
            )
        except (AccelServerError, RuntimeError) as err:
            self._kdir.cleanup()
            raise SessionError(f"the simulation did not start: {err}") from err

    def run(self, ids: np.ndarray, start: int) -> StepResult:
        from accllm.backend.sim.accelerator import AccelServerError

        d = self._map
        plan, step_in, step_reads = d.steps(ids, start)
        try:
            batch = self._server.run(
                [d.bases[s] for s, _, _ in plan], [p for _, p, _ in plan], step_in, step_reads
            )
        except AccelServerError as err:
            raise SessionError(str(err)) from err
        return StepResult(
            logits=d.logits_rows(plan, batch.step_act),
            cycles=batch.cycles,
            programs=[s for s, _, _ in plan],
        )

    def reset(self) -> None:
        pass  # see the module doc: positions restart at 0, nothing stale is read

    def close(self) -> None:
        self._server.close()
        self._kdir.cleanup()
