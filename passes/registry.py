"""The passes and named pipelines accllm-opt knows.

Project passes are listed in `PROJECT_PASSES` (pass name -> module path and class name), imported
lazily.  Named pipelines (`NAMED_PIPELINES`) expand to a pass list, so that
`--pass-pipeline='builtin.module(accllm-compress)'` works the way a registered MLIR pipeline does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass
from xdsl.universe import Universe

# pass name -> (module, class)
PROJECT_PASSES: dict[str, tuple[str, str]] = {
    "lower-to-accel": ("accllm.passes.lower_to_accel", "LowerToAccel"),
    "accllm-derive-step": ("accllm.passes.derive_step", "DeriveStep"),
    "accel-insert-barriers": ("accllm.passes.accel_insert_barriers", "AccelInsertBarriers"),
    "accel-to-hw": ("accllm.passes.accel_to_hw", "AccelToHw"),
    "accllm-estimate": ("accllm.passes.estimate", "Estimate"),
    "hls-annotate": ("accllm.passes.hls_annotate", "HlsAnnotate"),
    "convert-torch-to-accllm": (
        "accllm.passes.convert_torch_to_accllm",
        "ConvertTorchToAccllm",
    ),
    "accllm-prune-2-4": ("accllm.passes.prune_2_4", "Prune24"),
    "accllm-quantize": ("accllm.passes.quantize", "QuantizeW2A8KV4"),
    "accllm-lambda-attention": ("accllm.passes.lambda_attention", "LambdaAttention"),
    "accllm-fold-quantize-pairs": ("accllm.passes.fold_quantize_pairs", "FoldQuantizePairs"),
}


def compress_pipeline(
    sink: int = 4,
    window: int = 1020,
    group: int = 128,
    method: str = "magnitude",
    shapes_only: bool = False,
) -> str:
    """The AccLLM compression passes in xDSL `-p` syntax (the driver passes its own S, W);
    `shapes_only`: the types alone, no weight data (a config-only compile)."""
    only = " shapes_only=true" if shapes_only else ""
    return (
        f"accllm-prune-2-4{{method={method}{only}}},"
        f"accllm-lambda-attention{{sink={sink} window={window}}},"
        f"accllm-quantize{{weights=2 activations=8 kv=4 group={group}{only}}},"
        "accllm-fold-quantize-pairs"
    )


# pipeline name -> (description, pipeline in xDSL `-p` syntax)
NAMED_PIPELINES: dict[str, tuple[str, str]] = {
    "accllm-compress": (
        "AccLLM compression: 2:4 magnitude pruning, Λ attention (4 sinks + 1020 window), "
        "W2A8KV4 quantization (G=128, adapting per layer), then folding redundant casts",
        compress_pipeline(),
    ),
}


def _loader(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    return lambda: getattr(importlib.import_module(module), cls)


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Upstream xDSL passes plus the project's (the project's win on a name clash)."""
    passes = dict(Universe.get_multiverse().all_passes)
    for name, (module, cls) in PROJECT_PASSES.items():
        passes[name] = _loader(module, cls)
    return passes


def is_project_pass(name: str) -> bool:
    return name in PROJECT_PASSES
