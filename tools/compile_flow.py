"""The stages of `accllm compile`, in order.

Each stage reads what earlier stages left in `FlowState` and writes its artefacts into the output
directory.  Stages whose issue has not landed have `run=None`: reaching one is an error naming the
stage and the issue (exit 2), so the driver never pretends a stage ran.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    from accllm.models.checkpoint import load_or_build

    model, source = load_or_build(state.args.model, state.out / "model")
    state.artefacts["model"] = model
    state.summary["model"] = source
    cfg = model.config
    print(
        f"  model: {source}: {cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, "
        f"{cfg.num_attention_heads} heads ({cfg.num_key_value_heads} KV), "
        f"FFN {cfg.intermediate_size}, vocab {cfg.vocab_size}"
    )


def _stage_reference(state: FlowState) -> None:
    from accllm.numerics.reference_run import run_reference

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


STAGES: list[Stage] = [
    Stage("model", "load the checkpoint (or build the default tiny Llama)", _stage_model),
    Stage(
        "reference",
        "fp32, fake-quant and integer golden runs: prefill + Λ decode (the numerics contract)",
        _stage_reference,
    ),
    Stage("import", "torch-mlir import into smla/lattn IR", None, "issue 5 (frontend)"),
    Stage("compress", "2:4 pruning, W2A8KV4 quantization, Λ attention", None, "issue 6"),
    Stage("lower", "tiling, engine mapping, schedule, netlist", None, "issue 8"),
    Stage("emit", "structural Verilog, memory images, file list", None, "issue 8"),
    Stage("simulate", "whole-accelerator simulation vs the golden model", None, "issue 8"),
]


def run_flow(args: argparse.Namespace) -> int:
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
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
        state.summary.setdefault("seconds", {})[stage.name] = round(time.perf_counter() - t0, 3)
    state.summary["stopped_after"] = todo[-1].name
    (out / "summary.json").write_text(json.dumps(state.summary, indent=2, default=str) + "\n")
    print(
        f"accllm: flow stopped after stage '{todo[-1].name}' as requested; summary: "
        f"{out / 'summary.json'}"
    )
    return 0
