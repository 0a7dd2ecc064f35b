"""Differential tests of the compression passes on the tiny default models (MHA and GQA).

The model-level IR comes from the frontend (`import_model`, weights streamed from safetensors),
the passes run through accllm-opt's entry point, and the IR is executed by the interpreter
(`accllm.interpreter.runner`).  References are computed independently of the passes:
* float level: the HF model with the 2:4 mask applied by torch (`topk` per block of 4);
* integer level: the golden model (`numerics.golden`) on `compress_model(HF model)`, the
  numerics engineer's path from the HF object, bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from accllm.frontend.import_model import import_model
from accllm.interpreter.runner import run_file
from accllm.models.default import build_model, default_config
from accllm.numerics.calibration import calibration_ids
from accllm.numerics.compress import compress_model
from accllm.numerics.golden import GoldenModel
from accllm.tools.accllm_opt import main as accllm_opt

SEQ = 12
IDS = np.array([[3, 250, 17, 99, 42, 7, 128, 5, 64, 200, 1, 77]], dtype=np.int64)
LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@pytest.fixture(scope="module", params=[False, True], ids=["mha", "gqa"])
def imported(request, tmp_path_factory):
    """(HF model, directory, model-level IR path) for the MHA or GQA default model."""
    d = tmp_path_factory.mktemp("gqa" if request.param else "mha")
    model = build_model(default_config(gqa=request.param), seed=0)
    import_model(model, d / "model.mlir", weights="external", seq_len=SEQ)
    return model, d, d / "model.mlir"


def opt(src, dst, spec: str) -> None:
    assert accllm_opt([str(src), "-p", spec, "-o", str(dst)]) == 0


def torch_mask_2_4(w: torch.Tensor) -> torch.Tensor:
    """Independent 2:4 magnitude mask: top-2 |w| of every aligned block of 4 inputs."""
    blocks = w.abs().reshape(w.shape[0], -1, 4)
    keep = torch.zeros_like(blocks, dtype=torch.bool)
    keep.scatter_(-1, blocks.topk(2, dim=-1).indices, True)
    return keep.reshape(w.shape)


def hf_logits(model, ids) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids), attention_mask=torch.ones_like(torch.from_numpy(ids)))[
            "logits"
        ].numpy()


def masked_model(model, masks: dict[str, torch.Tensor]):
    m = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name in masks:
                p.mul_(masks[name])
    return m


def golden(model, sinks: int, window: int) -> np.ndarray:
    logits, _ = GoldenModel(compress_model(model), sinks, window).prefill(IDS[0])
    return logits


def test_prune_float_level_is_the_2_4_mask(imported):
    model, d, ir = imported
    opt(ir, d / "pruned.mlir", "accllm-prune-2-4")
    pruned = load_file(d / "model.pruned.safetensors")
    masks = {}
    for name, p in model.named_parameters():
        if name.split(".")[-2] in LINEARS:
            masks[name] = torch_mask_2_4(p.detach())
            np.testing.assert_array_equal(pruned[name], (p.detach() * masks[name]).numpy())
    assert set(masks) == set(pruned)  # the LM head, embedding and norms are not pruned
    (out,) = run_file(d / "pruned.mlir", "forward", [IDS])
    ref = hf_logits(masked_model(model, masks), IDS)
    np.testing.assert_allclose(out, ref, atol=2e-4, rtol=1e-4)
    # and pruning changed the model (the test would notice a no-op pass)
    assert np.abs(hf_logits(model, IDS) - ref).max() > 1e-2


def test_quantize_matches_golden_bit_for_bit(imported):
    model, d, ir = imported
    opt(ir, d / "q.mlir", 'accllm-prune-2-4,accllm-quantize{archive="q.safetensors"}')
    (out,) = run_file(d / "q.mlir", "forward", [IDS])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out[0], golden(model, sinks=0, window=SEQ))


def test_lambda_float_level_changes_only_late_queries(imported):
    """Λ(S, W) equals causal attention for queries i < S + W (they see every j <= i) and only
    for them (contract.lambda_visible)."""
    model, d, ir = imported
    opt(ir, d / "causal.mlir", 'accllm-prune-2-4{archive="p1.safetensors"}')
    opt(d / "causal.mlir", d / "lam.mlir", "accllm-lambda-attention{sink=2 window=4}")
    (causal,) = run_file(d / "causal.mlir", "forward", [IDS])
    (lam,) = run_file(d / "lam.mlir", "forward", [IDS])
    np.testing.assert_array_equal(lam[0, :6], causal[0, :6])
    assert np.all(np.abs(lam[0, 6:] - causal[0, 6:]).max(-1) > 1e-3)


@pytest.mark.parametrize("order", ["lambda-first", "quantize-first"])
def test_lambda_quantized_matches_golden(imported, order):
    model, d, ir = imported
    lam = "accllm-lambda-attention{sink=2 window=4}"
    quant = f'accllm-quantize{{archive="{order}.safetensors"}}'
    steps = [lam, quant] if order == "lambda-first" else [quant, lam]
    out_ir = d / f"{order}.mlir"
    opt(ir, out_ir, ",".join([f'accllm-prune-2-4{{archive="p-{order}.safetensors"}}', *steps]))
    (out,) = run_file(out_ir, "forward", [IDS])
    ref = golden(model, sinks=2, window=4)
    np.testing.assert_array_equal(out[0], ref)
    assert not np.array_equal(ref, golden(model, sinks=0, window=SEQ))  # Λ mattered


def test_named_pipeline_and_fold_match_golden(imported):
    model, d, ir = imported
    assert (
        accllm_opt(
            [str(ir), "--pass-pipeline=builtin.module(accllm-compress)", "-o", str(d / "c.mlir")]
        )
        == 0
    )
    text = (d / "c.mlir").read_text()
    # after folding: one A8 requantize per distinct linear input (4 per layer) + the LM head
    assert text.count("smla.requantize") == 4 * 2 + 1
    (out,) = run_file(d / "c.mlir", "forward", [IDS])
    np.testing.assert_array_equal(out[0], golden(model, sinks=4, window=1020))


def test_wanda_uses_calibration_activations(imported):
    """The Wanda mask is the top-2 of |W| * ||X||_2 per block, X captured here with torch hooks
    on the same deterministic calibration tokens; the quantized IR then matches the golden model
    built from the Wanda-pruned HF weights."""
    model, d, ir = imported
    opt(ir, d / "w.mlir", 'accllm-prune-2-4{method=wanda archive="wanda.safetensors"}')
    pruned = load_file(d / "wanda.safetensors")
    sq: dict[str, torch.Tensor] = {}
    hooks = []
    for name, mod in model.named_modules():
        if name.split(".")[-1] in LINEARS:

            def hook(_m, args, _out, key=f"{name}.weight"):
                x = args[0].reshape(-1, args[0].shape[-1]).double()
                sq[key] = sq.get(key, 0) + (x * x).sum(0)

            hooks.append(mod.register_forward_hook(hook))
    for seq in calibration_ids(model.config.vocab_size, SEQ, 4, 0):
        hf_logits(model, seq[None])
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters())
    differs = 0
    for name, s in sq.items():
        w = params[name].detach().double()
        want = torch_mask_2_4(w * s.sqrt()[None, :])
        np.testing.assert_array_equal(pruned[name] != 0, want.numpy())
        differs += int((want != torch_mask_2_4(w)).sum())
    assert differs > 0  # Wanda and magnitude disagree somewhere on this model
    opt(d / "w.mlir", d / "wq.mlir", 'accllm-quantize{archive="wq.safetensors"}')
    (out,) = run_file(d / "wq.mlir", "forward", [IDS])
    wanda_model = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in wanda_model.named_parameters():
            if name in pruned:
                p.copy_(torch.from_numpy(pruned[name]))
    np.testing.assert_array_equal(out[0], golden(wanda_model, sinks=0, window=SEQ))


def _odd_model(ffn: int):
    cfg = default_config(gqa=True)
    cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads = 96, 6, 2
    cfg.intermediate_size, cfg.num_hidden_layers = ffn, 1
    return build_model(cfg, seed=1)


def test_real_checkpoint_shapes_hidden_96(tmp_path):
    """hidden 96 / 6 heads of 16 / FFN 192: groups adapt (K=96 -> 32, K=192 -> 64) and the
    result is still bit-exact with the golden model."""
    model = _odd_model(192)
    import_model(model, tmp_path / "m.mlir", weights="external", seq_len=SEQ)
    opt(tmp_path / "m.mlir", tmp_path / "c.mlir", "accllm-compress")
    text = (tmp_path / "c.mlir").read_text()
    assert "!smla.qweight<96x96, ui2, group=32, sparse=2:4>" in text
    assert "!smla.qweight<96x192, ui2, group=64, sparse=2:4>" in text
    (out,) = run_file(tmp_path / "c.mlir", "forward", [IDS % 256])
    ref, _ = GoldenModel(compress_model(model), 4, 1020).prefill(IDS[0] % 256)
    np.testing.assert_array_equal(out[0], ref)


def test_ffn_264_is_zero_padded(tmp_path):
    """FFN 264 (not a multiple of 32): down_proj's K is zero-padded to 288 (G = 32) and the
    result is still bit-exact with the golden model (contract.padded_k)."""
    model = _odd_model(264)
    import_model(model, tmp_path / "m.mlir", weights="external", seq_len=SEQ)
    opt(tmp_path / "m.mlir", tmp_path / "c.mlir", "accllm-compress")
    text = (tmp_path / "c.mlir").read_text()
    assert "!smla.qweight<96x288, ui2, group=32, sparse=2:4>" in text
    (out,) = run_file(tmp_path / "c.mlir", "forward", [IDS % 256])
    ref, _ = GoldenModel(compress_model(model), 4, 1020).prefill(IDS[0] % 256)
    np.testing.assert_array_equal(out[0], ref)
