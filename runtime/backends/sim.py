"""The `sim` backend: the emitted accelerator under Verilator, a behavioural HBM behind its AXI
ports, driven the way `accllm compile --simulate` drives it (`accllm.backend.sim`).

Opening the session builds the design (cached by content in the user cache directory, so a
second session starts at once), packs the HBM images from the build's parameters, and starts
one simulator process that stays up for the session (`AccelServer`): the RoPE tables are
written through the top's table port, then every `run` sends the programs of a prompt chunk or a
decode step — token ids written into the activation buffer through the host port, the program
started at its run-time position (`pos`), its logits rows read back through the host port — and
waits for their cycles.  The KV cache lives in the accelerator between runs.

How the host drives the top is today's test-bench protocol (host port, `prog_base`/`pos`/
`start`/`done` pins), not the AXI4-Lite control slave of the Vitis kernel wrapper
(docs/vitis.md), which is generated and lint-checked but not simulated yet (issue #17 item 1).

`reset` needs no work on the accelerator: the attention unit derives which cache slots a query
sees from positions only (`kv_cache_ctrl`: every key position <= the query's, under the Λ
rule), so a new sequence at position 0 overwrites each slot before any query reads it.
"""

from __future__ import annotations

import numpy as np

from accllm.runtime.backends import StepResult
from accllm.runtime.errors import SessionError


class SimBackend:
    name = "sim"

    def __init__(self, build, log_file=None):
        from accllm.backend.sim.accelerator import (
            AccelServer,
            AccelServerError,
            accel_job,
            top_job_fields,
        )
        from accllm.backend.sim.hbm_image import hbm_images
        from accllm.backend.sim.model_run import design_map
        from accllm.backend.target_desc import load_target
        from accllm.interpreter.runner import load_module

        build.require_design()
        if build.target != "sim":
            raise SessionError(
                f"{build.path} was lowered for the '{build.target}' target: only the small "
                "'sim' target is simulated (compile with --target sim, or use --backend golden)"
            )
        accel_module = load_module(build.path / "model.accel.mlir")
        hw_module = load_module(build.path / "model.hw.mlir")
        self._map = d = design_map(accel_module, hw_module)
        self.vocab = d.vocab
        self.max_positions = min(d.max_pos, int(build.config()["max_position_embeddings"]))
        self.clock_mhz = load_target(build.target).clock_mhz
        self.log_file = log_file if log_file is not None else build.path / "runtime-sim.log"
        job = accel_job(
            build.target,
            d.channels,
            hbm_images(accel_module, build.path),
            {},
            [],
            [],
            rope_tables=d.rope,
            max_cycles=5_000_000,
            **top_job_fields(hw_module),
        )
        try:
            self._server = AccelServer(build.path / "verilog", d.top, job, self.log_file)
        except (AccelServerError, RuntimeError) as err:
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
