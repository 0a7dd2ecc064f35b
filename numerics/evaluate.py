"""Perplexity of a checkpoint at each level of the compression ladder (``accllm eval``).

Levels (docs/accuracy.md): ``float`` (the HF model, full causal attention, float32 as PyTorch
runs it), ``float+lambda`` (the float64 decoder of numerics/fakequant.py with float weights and
the Λ mask), each compression step alone with full attention (``2:4``, ``W2`` = dense W2 groups,
``A8``, ``KV4``), ``2:4+W2``, ``fake-quant`` (everything: 2:4 + W2A8KV4 + Λ + the int8 LM head,
int8 embedding rows and 16-bit norm gains; FakeQuantModel) and ``golden`` (the integer golden
model, numerics/golden.py, prefill with the Λ cache: the numbers the accelerator produces).

Methods choose how the weights are compressed (the same algorithms as the passes' options):

* ``magnitude``: 2:4 by |w| (``contract.prune_2_4_mask``), round-to-nearest W2 (``rtn``,
  ``contract.quantize_w2_groups``) — the floor;
* ``wanda``: 2:4 by |w| ||x||_2 on calibration inputs (``compress.wanda_mask_2_4``), ``rtn``;
* ``sparsegpt``: SparseGPT 2:4 then GPTQ W2 (``numerics/gptq.py``), each with the Hessian of
  the calibration inputs of the model it compresses (the float model for pruning, the pruned
  model for quantization: what the pass pipeline sees).

The text is cut into windows of ``seq_len`` + 1 tokens (consecutive windows share one token);
each window is evaluated from position 0 on a fresh cache, predicting its last ``seq_len``
tokens. Byte-level vocabularies (256 entries) take the file's bytes as token ids and also
report bits per byte (= mean NLL / ln 2).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from accllm.numerics import contract as ct
from accllm.numerics import gptq
from accllm.numerics.compress import (
    HF_LINEARS,
    CompressedModel,
    compress_model,
    w2_components,
    wanda_mask_2_4,
)
from accllm.numerics.golden import GoldenModel

METHODS = ("magnitude", "wanda", "sparsegpt")
LEVELS = (
    "float",
    "float+lambda",
    "2:4",
    "W2",
    "A8",
    "KV4",
    "2:4+W2",
    "fake-quant",
    "golden",
)
# Levels that do not depend on the compression method.
METHOD_FREE = ("float", "float+lambda", "A8", "KV4")


class EvalError(Exception):
    """A user-facing evaluation error (bad text, sizes, method)."""


def text_ids(data: bytes, vocab: int) -> np.ndarray:
    """Token ids of a text for a byte-level vocabulary: the bytes themselves."""
    if vocab != 256:
        raise EvalError(
            f"the model's vocabulary has {vocab} entries: only byte-level models (vocab 256) "
            "read text directly"
        )
    return np.frombuffer(data, dtype=np.uint8).astype(np.int64)


def windows(ids: np.ndarray, seq_len: int, max_windows: int | None = None) -> np.ndarray:
    """Windows [n, seq_len + 1] of consecutive ids with a stride of seq_len."""
    n = (len(ids) - 1) // seq_len
    if max_windows is not None:
        n = min(n, max_windows)
    if n < 1:
        raise EvalError(f"the text has {len(ids)} tokens: fewer than seq_len + 1 = {seq_len + 1}")
    return np.stack([ids[i * seq_len : i * seq_len + seq_len + 1] for i in range(n)])


def linear_modules(model):
    """(hf name, module) of every decoder linear, e.g. 'model.layers.0.self_attn.q_proj'."""
    for i, layer in enumerate(model.model.layers):
        for hf in HF_LINEARS.values():
            yield f"model.layers.{i}.{hf}", layer.get_submodule(hf)


def calibration_hessians(model, calib: np.ndarray) -> dict[str, np.ndarray]:
    """H = X^T X (float64) of every decoder linear's input over the calibration windows
    [n, T] (full causal attention, float32 model), captured with forward hooks."""
    import torch

    hs: dict[str, np.ndarray] = {}
    hooks = []
    for name, mod in linear_modules(model):

        def hook(_m, args, _out, key=name):
            h = gptq.hessian(args[0].double().numpy())
            hs[key] = hs[key] + h if key in hs else h

        hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            for row in calib:
                model(torch.as_tensor(row)[None])
    finally:
        for h in hooks:
            h.remove()
    return hs


def _with_weights(model, weights: dict[str, np.ndarray]):
    """A copy of the HF model with some linear weights replaced."""
    import copy

    import torch

    m = copy.deepcopy(model)
    with torch.no_grad():
        for name, mod in linear_modules(m):
            if name in weights:
                mod.weight.copy_(torch.as_tensor(weights[name], dtype=mod.weight.dtype))
    return m


@dataclass
class CompressedWeights:
    """One method's weights: ``pruned`` float 2:4 weights (zeros at pruned positions),
    ``w2_dense`` real values of dense W2 (no pruning), ``sparse_w2`` the 2:4 W2 components
    (the contract's storage) per HF linear name."""

    pruned: dict[str, np.ndarray]
    w2_dense: dict[str, np.ndarray]
    sparse_w2: dict[str, object]


def compress_weights(model, method: str, calib: np.ndarray | None, group: int):
    """Compress every decoder linear of ``model`` with ``method`` (see the module docstring)."""
    if method not in METHODS:
        raise EvalError(f"unknown method '{method}' (one of {', '.join(METHODS)})")
    needs_data = method != "magnitude"
    hs = calibration_hessians(model, calib) if needs_data else {}
    weights = {n: m.weight.detach().double().numpy() for n, m in linear_modules(model)}
    pruned, w2_dense, sparse = {}, {}, {}
    for name, w in weights.items():
        if method == "magnitude":
            pruned[name] = np.where(ct.prune_2_4_mask(w), w, 0.0)
        elif method == "wanda":
            pruned[name] = np.where(wanda_mask_2_4(w, np.diag(hs[name])), w, 0.0)
        else:
            pruned[name] = gptq.sparsegpt_2_4(w, hs[name], gptq.sparsegpt_block(w.shape[1]))
        if method == "sparsegpt":
            comp = gptq.gptq_components(w, hs[name], name, group, sparse=False)
        else:
            comp = w2_components(w, name, group, sparse=False)
        w2_dense[name] = _dense_real(comp, *w.shape)
    # GPTQ sees the inputs of the pruned model, as the quantize pass after the prune pass does.
    hs2 = calibration_hessians(_with_weights(model, pruned), calib) if method == "sparsegpt" else {}
    for name, w in pruned.items():
        if method == "sparsegpt":
            sparse[name] = gptq.gptq_components(w, hs2[name], name, group)
        else:
            sparse[name] = w2_components(w, name, group)
    return CompressedWeights(pruned, w2_dense, sparse)


def _dense_real(comp, n: int, k: int) -> np.ndarray:
    """Real values [N, K] of W2 components (dense or 2:4; stored with K zero-padded to
    contract.padded_k): S 2^-e (code - z), 0 where pruned."""
    kp = ct.padded_k(k)
    if comp.meta is not None:
        return ct.w2_dense_real(gptq.to_linear(comp, n, kp))[:, :k]
    g = comp.group
    exp = np.exp2(-comp.scale_exp.astype(np.float64))
    scale = comp.scale_mant.astype(np.float64) * exp[:, None]
    codes = comp.codes.astype(np.float64).reshape(n, kp // g, g)
    return ((codes - comp.zero_point[..., None]) * scale[..., None]).reshape(n, kp)[:, :k]


def compressed_model(model, cw: CompressedWeights, group: int) -> CompressedModel:
    """The CompressedModel of ``model`` with the linears of ``cw.sparse_w2`` (everything else
    — embedding, LM head, norms, RoPE — from compress_model)."""
    cm = compress_model(model, group)
    layers = []
    for i, ly in enumerate(cm.layers):
        repl = {}
        for field, hf in HF_LINEARS.items():
            old: ct.W2Linear = getattr(ly, field)
            comp = cw.sparse_w2[f"model.layers.{i}.{hf}"]
            new = gptq.to_linear(comp, old.out_features, old.in_features)
            if getattr(old, "bias", None) is not None:  # Qwen2-style q/k/v biases
                new = dataclasses.replace(new, bias=old.bias)
            repl[field] = new
        layers.append(dataclasses.replace(ly, **repl))
    return dataclasses.replace(cm, layers=tuple(layers))


def float_decoder(model, cm: CompressedModel, weights, sinks, window, act8=False, kv4=False):
    """FakeQuantModel's float64 decoder with the float parameters of ``model`` (linear weights
    overridden by ``weights``), float norm gains, embedding and LM head; A8/KV4 as asked."""
    import torch

    from accllm.numerics.fakequant import FakeQuantModel

    fq = FakeQuantModel(cm, sinks, window, act8=act8, kv4=kv4)

    def t(x):
        return torch.as_tensor(x.detach().double() if torch.is_tensor(x) else x)

    lin = {n: (weights[n] if n in weights else m.weight) for n, m in linear_modules(model)}
    for i, (ly, hfl) in enumerate(zip(fq.layers, model.model.layers, strict=True)):
        for field, hf in HF_LINEARS.items():
            ly[field] = t(lin[f"model.layers.{i}.{hf}"])
        ly["attn_norm"] = t(hfl.input_layernorm.weight)
        ly["mlp_norm"] = t(hfl.post_attention_layernorm.weight)
    fq.embed = t(model.model.embed_tokens.weight)
    fq.final_norm = t(model.model.norm.weight)
    fq.lm = t(model.lm_head.weight)
    return fq


def nll_sum(logits: np.ndarray, targets: np.ndarray) -> float:
    """Sum of -log softmax(logits)[target] over positions (float64)."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(-1, keepdims=True)
    lse = np.log(np.exp(x).sum(-1))
    return float((lse - x[np.arange(len(targets)), targets]).sum())


@dataclass
class LevelResult:
    level: str
    method: str | None
    nll: float  # mean over predicted tokens (nats)

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll)

    def as_dict(self, byte_level: bool) -> dict:
        d = {"level": self.level, "method": self.method, "nll": self.nll, "ppl": self.perplexity}
        if byte_level:
            d["bits_per_byte"] = self.nll / math.log(2)
        return d


def evaluate(
    model,
    win: np.ndarray,
    sinks: int,
    window: int,
    methods=METHODS,
    calib: np.ndarray | None = None,
    group: int = ct.NUMERICS.default_group,
    levels=LEVELS,
    progress=None,
) -> list[LevelResult]:
    """Mean NLL per level (and method where it matters) over the windows ``win`` [n, T+1].

    ``progress(n)`` is called after each (level, window) evaluation (a tqdm update)."""
    import torch

    from accllm.numerics.fakequant import FakeQuantModel

    model = model.eval()
    seq = win.shape[1] - 1
    if seq > model.config.max_position_embeddings:
        raise EvalError(
            f"seq_len {seq} exceeds the model's max_position_embeddings "
            f"{model.config.max_position_embeddings}"
        )
    if methods and any(m != "magnitude" for m in methods) and calib is None:
        raise EvalError("methods wanda and sparsegpt need calibration text")
    full = max(seq, 1)  # a window covering every position: full causal attention
    base_cm = compress_model(model, group)
    tick = progress or (lambda n: None)
    results: list[LevelResult] = []

    def run(fn, level, method):
        total = 0.0
        for row in win:
            total += nll_sum(fn(row[:-1]), row[1:])
            tick(1)
        results.append(LevelResult(level, method, total / (len(win) * seq)))

    def torch_fn(m):
        def f(ids):
            with torch.no_grad():
                return m(ids).numpy()

        return f

    def hf(ids):
        with torch.no_grad():
            return model(torch.as_tensor(ids)[None]).logits[0].double().numpy()

    free = {
        "float": hf,
        "float+lambda": torch_fn(float_decoder(model, base_cm, {}, sinks, window)),
        "A8": torch_fn(float_decoder(model, base_cm, {}, 0, full, act8=True)),
        "KV4": torch_fn(float_decoder(model, base_cm, {}, 0, full, kv4=True)),
    }
    for level in levels:
        if level in free:
            run(free[level], level, None)
    for method in methods:
        cw = compress_weights(model, method, calib, group)
        cm = compressed_model(model, cw, group)
        n_k = {n: m.weight.shape for n, m in linear_modules(model)}
        sparse_real = {n: _dense_real(c, *n_k[n]) for n, c in cw.sparse_w2.items()}
        per = {
            "2:4": lambda cw=cw: float_decoder(model, base_cm, cw.pruned, 0, full),
            "W2": lambda cw=cw: float_decoder(model, base_cm, cw.w2_dense, 0, full),
            "2:4+W2": lambda w=sparse_real: float_decoder(model, base_cm, w, 0, full),
            "fake-quant": lambda cm=cm: FakeQuantModel(cm, sinks, window),
        }
        for level in levels:
            if level in per:
                run(torch_fn(per[level]()), level, method)
        if "golden" in levels:
            g = GoldenModel(cm, sinks, window)
            run(lambda ids, g=g: g.prefill(ids)[0] / 2.0**ct.NUMERICS.logit_frac, "golden", method)
    return results


def golden_fakequant_gap(results: list[LevelResult]) -> dict[str, float]:
    """Per method, |ppl(golden) - ppl(fake-quant)| / ppl(fake-quant)."""
    by = {(r.level, r.method): r for r in results}
    out = {}
    for (level, method), r in by.items():
        if level == "golden" and ("fake-quant", method) in by:
            fq = by[("fake-quant", method)].perplexity
            out[method] = abs(r.perplexity - fq) / fq
    return out
