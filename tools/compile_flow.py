"""The stages of `accllm compile`, in order.

Each stage reads what earlier stages left in `FlowState` and writes its artefacts into the output
directory.  Stages whose issue has not landed have `run=None`: reaching one is an error naming the
stage and the issue (exit 2), so the driver never pretends a stage ran.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accllm.tools.atomic_io import atomic_write_text
from accllm.tools.errors import CommandError


@dataclass
class FlowState:
    args: argparse.Namespace
    out: Path
    artefacts: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[FlowState], None] | None
    issue: str = ""


def _stage_model(state: FlowState) -> None:
    from accllm.frontend.checkpoint import CheckpointError, load_or_build

    if state.args.config_only:
        _config_only_model(state)
        return
    try:
        model, source = load_or_build(state.args.model, state.out / "model")
    except CheckpointError as err:
        raise CommandError(str(err)) from err
    state.artefacts["model"] = model
    state.summary["model"] = source
    # where the runtime (accllm generate) finds the config and tokenizer files
    ckpt = Path(state.args.model) if state.args.model is not None else state.out / "model"
    state.summary["checkpoint"] = str(ckpt.resolve())
    cfg = model.config
    print(
        f"  model: {source}: {cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, "
        f"{cfg.num_attention_heads} heads ({cfg.num_key_value_heads} KV), "
        f"FFN {cfg.intermediate_size}, vocab {cfg.vocab_size}"
    )
    _resolve_lambda(state, cfg)


def _config_only_model(state: FlowState) -> None:
    """--config-only: the model's config alone (a config.json or a directory holding one);
    nothing is built and no weight is read."""
    from accllm.frontend.errors import FrontendError
    from accllm.frontend.import_model import read_config

    try:
        cfg = read_config(Path(state.args.model))
    except FrontendError as err:
        raise CommandError(str(err)) from err
    state.artefacts["config"] = cfg
    src = Path(state.args.model)
    state.summary["model"] = f"{src} (config only)"
    state.summary["checkpoint"] = str((src if src.is_dir() else src.parent).resolve())
    print(
        f"  model: {src} (config only, no weights): {cfg.num_hidden_layers} layers, hidden "
        f"{cfg.hidden_size}, {cfg.num_attention_heads} heads ({cfg.num_key_value_heads} KV), "
        f"FFN {cfg.intermediate_size}, vocab {cfg.vocab_size}"
    )
    _resolve_lambda(state, cfg)


def _resolve_lambda(state: FlowState, cfg) -> None:
    """The Λ S/W of this run (the model's sliding window where it has one), printed with why."""
    import sys

    from accllm.models.support import lambda_shape

    shape = lambda_shape(cfg, state.args.sink, state.args.window)
    state.args.sink, state.args.window = shape.sinks, shape.window
    state.summary["lambda"] = {"sinks": shape.sinks, "window": shape.window, "why": shape.reason}
    print(f"  Λ attention: S={shape.sinks} sinks, W={shape.window} window ({shape.reason})")
    if shape.warning:
        sys.stderr.write(f"accllm: warning: {shape.warning}\n")
        state.summary["lambda"]["warning"] = shape.warning


def _stage_reference(state: FlowState) -> None:
    from accllm.numerics.reference_run import run_reference

    if state.args.config_only:
        print("  skipped: --config-only (no weights, nothing to run)")
        state.summary["reference"] = "skipped (config only)"
        return
    result = run_reference(
        state.artefacts["model"],
        prompt_len=state.args.prompt_len,
        decode_steps=state.args.decode_steps,
        sinks=state.args.sink,
        window=state.args.window,
        out_file=state.out / "reference.npz",
    )
    state.artefacts["reference"] = result
    state.summary["reference"] = result.summary()
    for line in result.describe():
        print(f"  {line}")


def _stage_import(state: FlowState) -> None:
    from accllm.frontend.import_model import import_model

    out = state.out / "model.mlir"
    if state.args.config_only:  # built on the meta device: weights named, not written
        from accllm.frontend.errors import FrontendError
        from accllm.frontend.import_model import import_config

        try:
            result = import_config(state.args.model, out, seq_len=state.args.prompt_len)
        except FrontendError as err:
            raise CommandError(str(err)) from err
    else:
        result = import_model(
            state.artefacts["model"], out, weights="external", seq_len=state.args.prompt_len
        )
    state.artefacts["model_ir"] = out
    state.summary["import"] = {"ir": str(out), "layers": result.num_layers}
    where = "named, not read (config only)" if state.args.config_only else result.params_file
    print(
        f"  torch-mlir -> smla/lattn: {result.num_layers} layers, weights in {where}; "
        f"wrote {out} ({result.total_seconds:.2f} s)"
    )


def _stage_compress(state: FlowState) -> None:
    import numpy as np

    from accllm.backend.compression_report import build_report
    from accllm.interpreter.runner import load_module, run_file
    from accllm.passes.registry import compress_pipeline
    from accllm.tools import accllm_opt

    src, out = state.artefacts["model_ir"], state.out / "model.compressed.mlir"
    shapes_only = state.args.config_only
    spec = compress_pipeline(
        sink=state.args.sink, window=state.args.window, shapes_only=shapes_only
    )
    print(f"  accllm-opt -p '{spec}'")
    if accllm_opt.main(["-p", spec, str(src), "-o", str(out)]) != 0:
        raise CommandError(f"compression of {src} failed (diagnostics above)")
    state.artefacts["compressed_ir"] = out
    report = build_report(load_module(out))
    (state.out / "compression_report.json").write_text(json.dumps(report, indent=2) + "\n")
    if shapes_only:
        state.summary["compress"] = {"ir": str(out), "ir_vs_golden": "not run (config only)"}
        print(
            f"  wrote {out} (quantized types, float checkpoint references: `accllm "
            "pack-weights` compresses the weights into the HBM images)"
        )
        return

    # The compressed IR, run by the interpreter, must give the golden model's integers.
    ref = state.artefacts["reference"]
    (logits,) = run_file(out, "forward", [ref.prompt[None, :]])
    got = np.asarray(logits).reshape(ref.prefill_logits.shape)
    diff = np.argwhere(got != ref.prefill_logits)
    if len(diff):
        t, v = diff[0]
        raise CommandError(
            f"compressed IR differs from the integer golden model at token {t}, logit {v}: "
            f"{got[t, v]} != {ref.prefill_logits[t, v]} ({len(diff)} differences)"
        )
    kv, moved = report["kv_cache"], report["decode_bytes_per_token"]
    if report["k_padding_weights"]:
        print(
            f"  K zero-padded to multiples of 32: {report['k_padding_weights']} stored weights "
            f"are padding ({report['k_padding_weights'] / report['linear_weights']:.2%})"
        )
    print(
        f"  linear weights: {report['linear_bits_per_weight']} bits/weight (codes, 2:4 metadata, "
        f"scales, zero points, word padding); KV cache {kv['bytes_per_token']:.0f} B/token, "
        f"{kv['bytes_at_context']:.0f} B at the Λ context; {moved['total']:.0f} B moved per "
        "decoded token"
    )
    state.summary["compress"] = {"ir": str(out), "ir_vs_golden": "bit-exact"}
    print(
        f"  wrote {out} and compression_report.json; interpreter on the compressed IR == "
        f"integer golden model, bit for bit ({got.size} prefill logits)"
    )


SIM_LOG = "simulate.log"  # cocotb's and Verilator's output of the simulate stage

EMBEDDING_NOTE = (
    "the embedding runs on the accelerator (embedding_unit gathers the rows from the table "
    "image in HBM, contract.embedding_int8): the host writes only the token ids"
)


def pending_engine_features(compressed_ir: Path) -> list[str]:
    """Model features the compressed IR has that the RTL engine does not implement yet, each
    naming the config field (checked before lowering, so nothing is silently dropped)."""
    from accllm.dialects import smla
    from accllm.interpreter.runner import load_module

    found: list[str] = []
    ops = list(load_module(compressed_ir).walk())
    # stream_linear_unit writes Q15.16 output rows as whole 8-lane words (descriptor n / 8)
    odd_n = sorted(
        {
            o.operands[1].type.get_shape()[0]
            for o in ops
            if isinstance(o, (smla.LinearOp, smla.LMHeadOp))
            and o.operands[1].type.get_shape()[0] % 8
        }
    )
    if odd_n:
        found.append(
            f"output sizes that are not a multiple of 8 (N = {', '.join(map(str, odd_n))}, e.g. "
            "'hidden_size' or 'vocab_size'): the linear unit writes whole 8-output words"
        )
    return found


def _stage_lower(state: FlowState) -> None:
    from accllm.tools import accllm_opt

    args, out = state.args, state.out
    compressed = state.artefacts["compressed_ir"]
    pending = pending_engine_features(state.artefacts["compressed_ir"])
    if pending:
        raise CommandError(
            "the accelerator engine does not implement "
            + "; ".join(pending)
            + " (pending the engine rebuild); the stages up to 'compress' run: "
            "use --stop-after compress"
        )
    both = out / "model.prefill_decode.mlir"
    accel_ir, hw_ir = out / "model.accel.mlir", out / "model.hw.mlir"
    # the design's two programs, cloned from the imported @forward with run-time positions: a
    # prefill chunk of --chunk tokens and the one-token decode step
    spec = (
        "accllm-derive-step{source=forward step=decode tokens=1},"
        f"accllm-derive-step{{source=forward step=chunk tokens={args.chunk} replace=true}}"
    )
    print(f"  accllm-opt -p '{spec}' -> {both.name}")
    if accllm_opt.main(["-p", spec, str(compressed), "-o", str(both)]) != 0:
        raise CommandError(f"{spec} of {compressed} failed (diagnostics above)")
    # Lowering and netlist on one parsed module (a 7B design's IR is parsed once, not per
    # pass): each pass is verified as accllm-opt does and its IR written out.
    module, chunk = _parse(both)
    state.artefacts["hbm_layout"] = _opt_in_memory(
        f"lower-to-accel{{target={args.target}}},accel-insert-barriers", module, chunk, accel_ir
    )
    _opt_in_memory("accel-to-hw", module, chunk, hw_ir)
    state.artefacts["hw_module"] = module
    state.artefacts["accel_ir"], state.artefacts["hw_ir"] = accel_ir, hw_ir
    print(f"  note: {EMBEDDING_NOTE}")
    state.summary["lower"] = {
        "accel_ir": str(accel_ir),
        "hw_ir": str(hw_ir),
        "target": args.target,
        "embedding": EMBEDDING_NOTE,
    }


def _parse(path: Path):
    from xdsl.context import Context

    from accllm.dialects.registry import register_all_dialects
    from accllm.ir.io import Chunk, ToolError, parse_chunk, read_input, verify_module

    ctx = Context()
    register_all_dialects(ctx)
    text, name = read_input(str(path))
    chunk = Chunk(text, name, 0)
    try:
        module = parse_chunk(ctx, chunk)
        verify_module(module, chunk)
    except ToolError as err:
        raise CommandError("; ".join(str(d) for d in err.diagnostics)) from err
    return module, chunk


def _opt_in_memory(spec: str, module, chunk, dst: Path) -> dict:
    """`accllm-opt -p spec` applied to `module` in place (verified after every pass), its IR
    written to `dst`; returns the HBM layout document when the result is at the accel level."""
    from xdsl.context import Context

    from accllm.backend.hbm_layout import LayoutError, layout_json
    from accllm.dialects import accel
    from accllm.dialects.registry import register_all_dialects
    from accllm.ir.io import ToolError, run_guarded
    from accllm.tools import accllm_opt

    print(f"  accllm-opt -p '{spec}' -> {dst.name}")
    args = accllm_opt.build_arg_parser().parse_args(["-p", spec, chunk.name, "-o", str(dst)])
    ctx = Context()
    register_all_dialects(ctx)
    try:
        pipeline, holder = accllm_opt.build_pipeline(args, sys.stderr)
        holder[:] = [chunk]
        run_guarded(chunk, lambda: pipeline.apply(ctx, module))
    except ToolError as err:
        for d in err.diagnostics:
            sys.stderr.write(f"{d}\n")
        raise CommandError(f"{spec} of {chunk.name} failed (diagnostics above)") from err
    atomic_write_text(dst, accllm_opt.print_module(module, args))
    if not any(isinstance(o, accel.EngineOp) for o in module.ops):
        return {}
    try:
        return layout_json(module)
    except LayoutError as err:
        raise CommandError(f"HBM layout of {dst}: {err}") from err


def _stage_emit(state: FlowState) -> None:
    from accllm.tools import accllm_translate

    vdir = state.out / "verilog"
    top = vdir / "accllm_top.sv"
    if accllm_translate.main(["--emit-verilog", str(state.artefacts["hw_ir"]), "-o", str(top)]):
        raise CommandError("Verilog emission failed (diagnostics above)")
    files = (vdir / "filelist.f").read_text().split()
    state.artefacts["verilog"] = vdir
    state.summary["emit"] = {"dir": str(vdir), "files": len(files)}
    print(f"  wrote {vdir}: {len(files)} sources in filelist.f, ROM images")
    from accllm.backend.hbm_layout import LAYOUT_FILE

    doc = state.artefacts["hbm_layout"]
    path = state.out / LAYOUT_FILE
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
    state.summary["emit"]["hbm_layout"] = str(path)
    print(
        f"  wrote {path}: {len(doc['regions'])} HBM regions on {doc['channels']} channels, "
        f"{sum(doc['images']['bytes']) / 2**20:.1f} MiB"
    )
    if state.args.target != "sim":  # a card: the Vitis RTL kernel packaging
        from accllm.backend.target_desc import load_target
        from accllm.backend.vitis.package import write_kernel
        from accllm.backend.vitis.regmap import KernelError

        kdir = state.out / "vitis"
        try:
            spec = write_kernel(
                state.artefacts["hw_module"],
                vdir,
                kdir,
                load_target(state.args.target).clock_mhz,
            )
        except KernelError as err:
            raise CommandError(f"Vitis kernel packaging: {err}") from err
        state.summary["emit"]["vitis"] = str(kdir)
        print(
            f"  wrote {kdir}: RTL kernel accllm_kernel (s_axi_control, "
            f"{len(spec.masters)} m_axi masters), kernel.xml, package_xo.tcl, link.cfg, "
            "build.sh (needs Vivado/Vitis: not on this machine, not run)"
        )


def _stage_simulate(state: FlowState) -> None:
    from accllm.backend.sim.model_run import prompt_plan, simulate_model
    from accllm.interpreter.runner import load_module
    from accllm.tools.progress import progress_bar

    args, ref = state.args, state.artefacts["reference"]
    steps = len(ref.tokens)
    plan = prompt_plan(len(ref.prompt), args.chunk)
    chunks = sum(1 for s, _, _ in plan if s != "decode_gemv")
    print(
        f"  Verilator + behavioural HBM ({args.target} latency / bandwidth per channel): "
        f"prompt of {len(ref.prompt)} tokens as {chunks} chunk(s) of {args.chunk} + "
        f"{len(plan) - chunks} single-token step(s), greedy decode {steps} tokens; "
        f"{EMBEDDING_NOTE}"
    )
    log = state.out / SIM_LOG
    print(f"  simulator output: {log}")
    with progress_bar(len(plan) + steps, "  simulate", unit="program") as progress:
        run = simulate_model(
            load_module(state.artefacts["accel_ir"]),
            load_module(state.artefacts["hw_ir"]),
            state.artefacts["verilog"],
            state.out,
            ref.prompt,
            steps,
            args.target,
            log_file=log,
            progress=progress,
        )
    n_prompt = len(run.prompt_programs)
    prompt_cycles, decode_cycles = run.cycles[:n_prompt], run.cycles[n_prompt:]
    print(
        f"  cycles: prompt {sum(prompt_cycles)} ({n_prompt} programs), decode steps "
        f"{min(decode_cycles, default=0)}..{max(decode_cycles, default=0)} "
        f"(total {sum(run.cycles)}); HBM words read per channel {run.words_read}"
    )
    state.summary["simulate"] = {
        "cycles": run.cycles,
        "programs": run.prompt_programs + ["decode_gemv"] * len(decode_cycles),
        "positions": run.positions,
        "words_read": run.words_read,
    }
    diff = first_difference(run, ref)
    state.summary["simulate"]["match"] = diff is None
    if diff is not None:
        raise CommandError(f"simulated run differs from the integer golden model: {diff}")
    print(
        "  simulated tokens and logits match the integer golden model bit for bit "
        f"({len(ref.prompt)} prefill rows, {steps} decode steps, "
        f"{ref.prefill_logits.size + ref.decode_logits.size} logits)"
    )


def first_difference(run, ref) -> str | None:
    """Where the simulated run first differs from the reference (None if bit-exact)."""
    import numpy as np

    bad = np.argwhere(run.prefill_logits != ref.prefill_logits)
    if len(bad):
        t, v = bad[0]
        return (
            f"prefill token {t}, logit {v}: {run.prefill_logits[t, v]} != "
            f"{ref.prefill_logits[t, v]} ({len(bad)} differences)"
        )
    for step, (got, want) in enumerate(zip(run.tokens, ref.tokens, strict=True)):
        if got != want:
            return f"decode step {step}: token {got} != {want}"
        bad = np.flatnonzero(run.decode_logits[step] != ref.decode_logits[step])
        if len(bad):
            v = bad[0]
            return (
                f"decode step {step}, logit {v}: {run.decode_logits[step, v]} != "
                f"{ref.decode_logits[step, v]} ({len(bad)} differences)"
            )
    return None


STAGES: list[Stage] = [
    Stage("model", "load the checkpoint (or build the default tiny Llama)", _stage_model),
    Stage(
        "reference",
        "fp32, fake-quant and integer golden runs: prefill + Λ decode (the numerics contract)",
        _stage_reference,
    ),
    Stage("import", "torch-mlir import into smla/lattn IR", _stage_import),
    Stage(
        "compress",
        "2:4 pruning, Λ attention, W2A8KV4 quantization; check the IR against the golden model",
        _stage_compress,
    ),
    Stage("lower", "tiling, engine mapping, schedule, netlist", _stage_lower),
    Stage("emit", "structural Verilog, memory images, file list", _stage_emit),
    Stage("simulate", "whole-accelerator simulation vs the golden model", _stage_simulate),
]


def run_flow(args: argparse.Namespace) -> int:
    args.config_only = getattr(args, "config_only", False)
    out = Path(args.output_dir)
    check_before_work(args)
    with output_directory(out):
        return _run_stages(args, out)


def check_before_work(args: argparse.Namespace) -> None:
    """What can be refused before anything is written: the checkpoint (every tensor present,
    shaped, finite), a simulation of a target too large to simulate, and the check run's
    positions against the model's max_position_embeddings."""
    from accllm.frontend.validate import CheckpointInvalid, read_config_json, validate_checkpoint

    if args.config_only:
        if args.model is None:
            raise CommandError("--config-only needs a config.json or checkpoint directory")
        if args.simulate or (args.stop_after or "emit") == "simulate":
            raise CommandError(
                "--config-only has no weights to simulate with: pack them with `accllm "
                "pack-weights` (drop --simulate)"
            )
        try:
            max_pos = read_config_json(Path(args.model))["max_position_embeddings"]
        except CheckpointInvalid as err:
            raise CommandError(str(err)) from err
        except KeyError:
            raise CommandError(f"{args.model}: config has no max_position_embeddings") from None
    elif args.model is not None:
        try:
            validate_checkpoint(args.model)
            max_pos = json.loads((Path(args.model) / "config.json").read_text())[
                "max_position_embeddings"
            ]
        except CheckpointInvalid as err:
            raise CommandError(str(err)) from err
    else:
        from accllm.models.default import default_config

        max_pos = default_config().max_position_embeddings
    if getattr(args, "simulate", False) and args.target != "sim":
        raise CommandError(
            f"simulation runs on the small 'sim' target only: the '{args.target}' netlist "
            "(hundreds of MAC lanes, 32 channels) is too large for Verilator in a flow run; "
            "nothing was run (drop --simulate to lower and emit it)"
        )
    positions = args.prompt_len + args.decode_steps
    if positions > max_pos:
        raise CommandError(
            f"--prompt-len {args.prompt_len} + --decode-steps {args.decode_steps} = {positions} "
            f"positions exceed the model's max_position_embeddings = {max_pos}"
        )


@contextmanager
def output_directory(out: Path):
    """Build the flow's artefacts in `out` so that a failure leaves nothing half-filled.

    `out` must be new, empty, or an earlier accllm output (it has summary.json); an earlier
    output is moved aside and restored if this run fails, dropped if it succeeds.  A failed
    run's directory is removed (kept with ACCLLM_DEBUG=1 for inspection)."""
    if out.exists() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise CommandError(
            f"{out}: exists and is not an accllm output directory (no summary.json); name a new "
            "or empty directory"
        )
    existed = out.exists()
    created = out
    while not created.parent.exists():  # the topmost directory this run creates
        created = created.parent
    previous = None
    if existed and any(out.iterdir()):
        previous = out.with_name(f".{out.name}.previous-{os.getpid()}")
        os.replace(out, previous)
        existed = False
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if os.environ.get("ACCLLM_DEBUG"):
            kept = f"; the earlier output is in {previous}" if previous else ""
            sys.stderr.write(f"accllm: note: the failed run's files are kept in {out}{kept}\n")
            raise
        if existed:  # an empty directory the user gave: empty again
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(created, ignore_errors=True)
        if previous is not None:
            os.replace(previous, out)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def _run_stages(args: argparse.Namespace, out: Path) -> int:
    state = FlowState(args=args, out=out)
    names = [s.name for s in STAGES]
    last = args.stop_after or ("simulate" if args.simulate else "emit")
    todo = STAGES[: names.index(last) + 1]
    missing = [s for s in todo if s.run is None]
    if missing:  # fail before doing any work
        first = missing[0]
        works = [s.name for s in STAGES[: STAGES.index(first)]]
        raise CommandError(
            f"stage '{first.name}' ({first.description}) is not implemented yet [{first.issue}]; "
            f"the stages that work are: {', '.join(works)} (use --stop-after {works[-1]})",
            exit_code=2,
        )
    for i, stage in enumerate(todo, start=1):
        print(f"[{i}/{len(todo)}] {stage.name}: {stage.description}")
        t0 = time.perf_counter()
        stage.run(state)
        seconds = time.perf_counter() - t0
        state.summary.setdefault("seconds", {})[stage.name] = round(seconds, 3)
        print(f"  ({stage.name}: {seconds:.1f} s)")
    state.summary["stopped_after"] = todo[-1].name
    times = state.summary["seconds"]
    print(
        f"accllm: wall time {sum(times.values()):.1f} s: "
        + ", ".join(f"{name} {t:.1f} s" for name, t in times.items())
    )
    atomic_write_text(out / "summary.json", json.dumps(state.summary, indent=2, default=str) + "\n")
    how = (
        f"stopped after stage '{todo[-1].name}' as requested"
        if args.stop_after
        else f"flow complete ({todo[-1].name})"
    )
    print(f"accllm: {how}; summary: {out / 'summary.json'}")
    return 0
