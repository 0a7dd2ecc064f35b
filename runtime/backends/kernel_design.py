"""What the `sim` and `device` backends share: a build's emitted kernel as a host drives it.

`load_kernel_design` reads the build's accel- and hardware-level IR once and returns the
programs' map (which program runs which tokens, where token ids and logits live:
`backend/sim/model_run.DesignMap`), the kernel's register map (`backend/vitis/regmap`), the HBM
images of the build's weights and each channel's buffer size, and the job fields the register
protocol (`backend/kernel_host.KernelHost`) needs: RoPE tables and fetch-program bases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class KernelDesign:
    hw_module: object
    map: object  # backend.sim.model_run.DesignMap
    job: object  # backend.sim.accelerator.AccelJob (images, RoPE tables, fetch bases, regmap)
    spec: object  # backend.vitis.regmap.KernelSpec
    extents: dict[int, int]  # channel -> bytes its buffer must hold
    clock_mhz: float
    max_positions: int


def load_kernel_design(build, max_cycles: int = 5_000_000) -> KernelDesign:
    from accllm.backend.hbm_layout import channel_extents
    from accllm.backend.sim.accelerator import accel_job, top_job_fields
    from accllm.backend.sim.hbm_image import hbm_images
    from accllm.backend.sim.model_run import design_map
    from accllm.backend.target_desc import load_target
    from accllm.backend.vitis.regmap import kernel_spec
    from accllm.interpreter.runner import load_module

    build.require_design()
    accel_module = load_module(build.path / "model.accel.mlir")
    hw_module = load_module(build.path / "model.hw.mlir")
    d = design_map(accel_module, hw_module)
    job = accel_job(
        build.target,
        d.channels,
        hbm_images(accel_module, build.path),
        {},
        [],
        [],
        rope_tables=d.rope,
        max_cycles=max_cycles,
        **top_job_fields(hw_module),
    )
    spec = kernel_spec(hw_module)
    job.regmap = {r.name: r.offset for r in spec.registers}
    return KernelDesign(
        hw_module=hw_module,
        map=d,
        job=job,
        spec=spec,
        extents=channel_extents(accel_module),
        clock_mhz=load_target(build.target).clock_mhz,
        max_positions=min(d.max_pos, int(build.config()["max_position_embeddings"])),
    )
