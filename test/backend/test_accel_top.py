"""The emitted accelerator top on a design whose instructions all have RTL (two W2 linears).

A compressed IR of two 2:4 W2 `smla.linear`s reading the same A8 input (random weights from
`numerics.compress.w2_components`, written as a parameter archive the way the compression
passes write one) goes through the real tools: `accllm-opt -p lower-to-accel{target=sim}`, then
`accel-to-hw`, then `accllm-translate --emit-verilog`. Checked:

- the generated directory (top.sv named after the top, rtl_lib sources, ROM images, filelist.f)
  passes `verilator --lint-only -Wall`;
- (slow) it synthesises with Yosys `synth_xilinx` (resource counts logged);
- (slow) simulating the top, AXI ports served by the behavioural HBM model at the sim target's
  latency and bandwidth, with the HBM images from `backend/sim/hbm_image.py`, writes into the
  activation buffer exactly `contract.linear_w2a8` of both layers, bit for bit, and touches no
  word it should not (the whole buffer region of the outputs is read back). Six tokens make
  each linear two GEMM tiles (4 + 2) of the stream unit, the weights streamed once per tile.
"""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from accllm.backend.sim.hbm_image import hbm_images, load_w2_linear
from accllm.backend.sim.stream_linear_unit_run import act_words
from accllm.interpreter.params import ParamStore
from accllm.numerics import contract as ct
from accllm.numerics.compress import w2_components
from accllm.rtl_lib import sim, synth

TOP = "accllm_top"
TOKENS, K = 6, 64  # 6 tokens: two GEMM tiles of the sim engine (4 + 2)
LAYERS = {"up": (128, 64), "gate": (40, 32)}  # name -> (n, group); 40 rows: padded lanes


def _qw(n: int, group: int) -> str:
    return f"!smla.qweight<{n}x{K}, ui2, group={group}, sparse=2:4>"


def linear_ir() -> str:
    x = f"!smla.qtensor<{TOKENS}x{K}xsi8, per_token>"
    ys = {name: f"!smla.qtensor<{TOKENS}x{n}xsi32, frac=16>" for name, (n, _) in LAYERS.items()}
    lines = [f"func.func @forward(%x: {x}) -> ({', '.join(ys.values())}) {{"]
    for name, (n, g) in LAYERS.items():
        lines.append(
            f'  %w_{name} = smla.weight #smla.param<"lin.safetensors", "{name}"> : {_qw(n, g)}'
        )
    for name, (n, g) in LAYERS.items():
        lines.append(
            f"  %y_{name} = smla.linear %x, %w_{name} {{acc_bits = 48}} : {x}, {_qw(n, g)} -> "
            f"{ys[name]}"
        )
    lines.append(f"  func.return {', '.join(f'%y_{n}' for n in LAYERS)} : {', '.join(ys.values())}")
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def design(tmp_path_factory, emit_accelerator):
    """Build the IR, lower it, emit the design; returns (work dir, design dir, accel IR path)."""
    work = tmp_path_factory.mktemp("accel_top")
    rng = np.random.default_rng(7)
    tensors = {}
    for name, (n, group) in LAYERS.items():
        comp = w2_components(rng.standard_normal((n, K)), name, group)
        for c, arr in comp.arrays().items():
            tensors[f"{name}.{c}"] = np.ascontiguousarray(arr)
    save_file(tensors, str(work / "lin.safetensors"))
    (work / "lin.mlir").write_text(linear_ir())
    out, accel_ir = emit_accelerator(work / "lin.mlir", work, TOP)
    return work, out, accel_ir


def test_emitted_directory(design):
    _, out, _ = design
    files = (out / "filelist.f").read_text().split()
    assert files[-1] == f"{TOP}.sv"
    for f in ("program.hex", "linear_desc.hex", *files):
        assert (out / f).is_file(), f
    # Per linear one DISPATCH to unit 0 (mac) per GEMM tile (descriptors 0..3), then HALT.
    assert (out / "program.hex").read_text().split() == [
        "1000000000000000",
        "1000000000000001",
        "1000000000000002",
        "1000000000000003",
        "5000000000000000",
    ]
    # Each channel's fetch program streams each linear's region once per tile, then END.
    for c in range(4):
        entries = (out / f"fetch_c{c}.hex").read_text().split()
        assert [e[0] for e in entries] == ["1"] * 4 + ["0"], f"channel {c}: {entries}"


def test_emitted_top_lints_clean(design):
    _, out, _ = design
    files = [out / f for f in (out / "filelist.f").read_text().split()]
    sim.lint(files, TOP)  # raises LintError on any warning


@pytest.mark.slow
def test_emitted_top_synthesises(design):
    _, out, _ = design
    files = (out / "filelist.f").read_text().split()
    figures = synth.synthesize_files(out, files, TOP)
    print(f"accllm_top (two-linear sim design) on {synth.FAMILY}: {figures}")
    # The MAC unit is there (LUTs, flops) and the 4608-word activation buffer went to BRAM.
    assert figures["LUT"] > 1000 and figures["FF"] > 1000
    assert figures["BRAM"] >= 4608 * 256 // (18 * 1024)


@pytest.mark.slow
def test_simulated_top_matches_the_contract(design):
    from accllm.backend.sim.accelerator import accel_job, run_accelerator, top_job_fields
    from accllm.dialects import accel
    from accllm.interpreter.runner import load_module as parse_file

    work, out, accel_ir = design
    module = parse_file(accel_ir)
    buffers = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.BufferOp)}
    linears = [
        o
        for s in module.ops
        if isinstance(s, accel.ScheduleOp)
        for o in s.body.block.ops
        if isinstance(o, accel.LinearOp)
    ]
    hw = parse_file(work / "hw.mlir")
    bases = hw.attributes["accel.programs"].data
    channels = [c.value.data for c in hw.attributes["accel.top"].data["channels"].data]

    rng = np.random.default_rng(11)
    x_q = rng.integers(-127, 128, size=(TOKENS, K))
    f_x = rng.integers(0, 8, size=TOKENS)
    x_base = buffers[linears[0].input.root_reference.data].offset.value.data // 32
    act_in = {x_base + i: w for i, w in enumerate(act_words(x_q, f_x))}

    store = ParamStore(work)
    want: dict[int, int] = {}
    reads = []
    for op, name in zip(linears, LAYERS, strict=True):
        n, group = LAYERS[name]
        lin = load_w2_linear(store, f"lin.safetensors:{name}", n, K, group)
        y = ct.linear_w2a8(x_q, f_x, lin)
        y_base = buffers[op.output.root_reference.data].offset.value.data // 32
        for t in range(TOKENS):
            for w in range(n // 8):
                lanes = [int(v) & 0xFFFFFFFF for v in y[t, 8 * w : 8 * w + 8]]
                want[y_base + t * n // 8 + w] = sum(v << (32 * i) for i, v in enumerate(lanes))
        reads.append((y_base, TOKENS * n // 8))
    job = accel_job(
        "sim",
        channels,
        hbm_images(module, work),
        act_in,
        [bases["forward_gemm"].value.data],
        reads,
        **top_job_fields(hw),
    )
    run = run_accelerator(out, TOP, job)
    print(
        f"two-linear program: {run.cycles} cycles, HBM words read per channel "
        f"{run.words_read}, bursts {run.bursts}"
    )
    bad = [(a, hex(run.act.get(a, -1)), hex(w)) for a, w in want.items() if run.act.get(a) != w]
    assert not bad, f"{len(bad)} of {len(want)} output words differ, first {bad[:3]}"
    assert run.cycles[0] > 0
