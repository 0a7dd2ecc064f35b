"""HF causal LM -> torch-dialect MLIR text, through `torch.export` and `torch_mlir.fx`.

The model is exported as a function of the token ids *and of its weights*: every parameter and
buffer is an explicit argument (`torch.func.functional_call`), so that
- no weight is copied into the IR by torch-mlir (a 7B model on the `meta` device exports in
  seconds without allocating its weights), and
- the frontend decides afterwards how each weight appears in the IR (inline or by name).

The recipe that keeps attention, linear layers and SiLU whole is the one DESIGN.md §6 checked:
output type "torch", torch-mlir's decomposition table minus the entries for those ops, and the
same ops as backend-legal.  Locations are kept (`loc(...)` of the Python source line that
emitted each op) so that diagnostics point into the model's code.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass

import torch

# Ops kept whole through export (DESIGN.md §3: never decompose attention or linear layers).
KEPT_WHOLE = ("aten.scaled_dot_product_attention", "aten.linear", "aten.silu")
_DECOMP_EXCLUDE = ("scaled_dot_product", "linear", "silu")


@dataclass
class TorchExport:
    """torch-dialect text of `@main(ids, *weights)` and what each weight argument is."""

    text: str
    weight_names: list[str]  # argument i + 1 of @main is the weight named weight_names[i]
    buffers: dict[str, torch.Tensor]  # buffers (e.g. RoPE inv_freq), always real CPU tensors
    seq_len: int


def decomposition_table() -> dict:
    """torch-mlir's decompositions without those that would split attention, linear or SiLU."""
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table

    return {
        op: fn
        for op, fn in get_decomposition_table().items()
        if not any(s in str(op) for s in _DECOMP_EXCLUDE)
    }


class _Forward(torch.nn.Module):
    """`forward(ids, *weights) -> logits` of a causal LM, the weights passed explicitly."""

    def __init__(self, model: torch.nn.Module, names: list[str]):
        super().__init__()
        # Not registered as a submodule: torch.export would lift its weights a second time.
        object.__setattr__(self, "model", model)
        self.names = names

    def forward(self, ids, *weights):
        state = dict(zip(self.names, weights, strict=True))
        # An explicit all-ones mask keeps HF from building it with cumsum (tm_tensor.scan).
        kwargs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "use_cache": False}
        return torch.func.functional_call(self.model, state, (), kwargs).logits


def real_buffers(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's buffers as CPU tensors.  Buffers of a `meta` model (RoPE inv_freq) are
    recomputed by re-creating their module from the model config on the CPU."""
    out: dict[str, torch.Tensor] = {}
    for mod_name, module in model.named_modules():
        own = dict(module.named_buffers(recurse=False))
        if not own:
            continue
        if any(b.is_meta for b in own.values()):
            fresh = type(module)(module.config)  # rotary embeddings take only the config
            own = dict(fresh.named_buffers(recurse=False))
        for name, buf in own.items():
            out[f"{mod_name}.{name}" if mod_name else name] = buf.detach().cpu()
    return out


def export_torch(model: torch.nn.Module, seq_len: int) -> TorchExport:
    """Export `model` (eval mode, float32) for one sequence of `seq_len` tokens."""
    from torch_mlir import fx

    params = dict(model.named_parameters())
    buffers = real_buffers(model)
    names = list(params) + list(buffers)
    on_meta = any(p.is_meta for p in params.values())
    device = "meta" if on_meta else "cpu"
    example = [params[n] for n in params] + [buffers[n].to(device) for n in buffers]
    ids = torch.zeros((1, seq_len), dtype=torch.long, device=device)
    with torch.no_grad(), warnings.catch_warnings(), _static_dynamic_rope(model):
        # torch.export's internal deprecation notices are not actionable for users.
        warnings.simplefilter("ignore", FutureWarning)
        program = torch.export.export(_Forward(model, names), (ids, *example), strict=False)
        module = fx.export_and_import(
            program,
            output_type="torch",
            decomposition_table=decomposition_table(),
            backend_legal_ops=list(KEPT_WHOLE),
        )
    text = module.operation.get_asm(
        enable_debug_info=True, use_local_scope=True, print_generic_op_form=True
    )
    return TorchExport(simplify_locations(text), names, buffers, seq_len)


@contextlib.contextmanager
def _static_dynamic_rope(model: torch.nn.Module):
    """Export dynamic-NTK RoPE ('dynamic') as its frequencies at init. HF recomputes them only
    for sequences longer than max_position_embeddings, a data-dependent branch torch.export
    cannot trace; accllm's RoPE tables end at max_position_embeddings (positions beyond are
    refused), where 'dynamic' equals these frequencies."""
    changed = [m for m in model.modules() if getattr(m, "rope_type", None) == "dynamic"]
    for m in changed:
        m.rope_type = "default"
    try:
        yield
    finally:
        for m in changed:
            m.rope_type = "dynamic"


# torch-mlir records each op's Python stack as nested `callsite(callee at caller)` locations.
_CALLSITE = re.compile(r'loc\(callsite\(("[^"]*":\d+:\d+) at ')
_TORCH_PACKAGE = re.compile(r'"[^"]*/site-packages/torch/')


def simplify_locations(text: str) -> str:
    """Replace each op's call-stack location by one `loc("file":line:col)`: the innermost frame
    outside PyTorch itself (the model's source line that made the op), else the innermost."""
    out: list[str] = []
    pos = 0
    for m in _CALLSITE.finditer(text):
        if m.start() < pos:
            continue
        end = _matching_paren(text, m.start() + 3)
        frames = re.findall(r'"[^"]*":\d+:\d+', text[m.start() : end + 1])
        chosen = next((f for f in frames if not _TORCH_PACKAGE.match(f)), frames[0])
        out.append(text[pos : m.start()])
        out.append(f"loc({chosen})")
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)


def _matching_paren(text: str, open_index: int) -> int:
    """Index of the `)` closing the `(` at `open_index` (file names never contain parens
    unbalanced in torch-mlir output: they are quoted, and quotes are skipped)."""
    depth, i, n = 0, open_index, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = text.index('"', i + 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced location in torch-mlir output")
