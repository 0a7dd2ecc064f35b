"""The second-order compression options: `accllm-prune-2-4{method=sparsegpt}` and
`accllm-quantize{method=gptq}` (numerics/gptq.py).

* The compressed IR they produce, run by the interpreter, equals the golden model bit for bit
  on the integers they stored (the contract's storage: every level reads it unchanged).
* The pass's SparseGPT result equals numerics.gptq applied to the HF weights with Hessians
  captured independently by torch hooks on the same calibration tokens.
* On a layer with correlated inputs, the second-order methods lower the output error that
  they minimise, against magnitude pruning and round-to-nearest.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from accllm.frontend.import_model import import_model
from accllm.interpreter.runner import run_file
from accllm.models.default import build_model, default_config
from accllm.numerics import contract as ct
from accllm.numerics import gptq
from accllm.numerics.calibration import calibration_ids
from accllm.numerics.compress import HF_LINEARS, W2Components, compress_model, w2_components
from accllm.numerics.golden import GoldenModel
from accllm.tools.accllm_opt import main as accllm_opt

SEQ = 12
IDS = np.array([[3, 250, 17, 99, 42, 7, 128, 5, 64, 200, 1, 77]], dtype=np.int64)


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """(HF model, dir): the tiny GQA model through sparsegpt pruning and gptq quantization."""
    d = tmp_path_factory.mktemp("second_order")
    model = build_model(default_config(gqa=True), seed=0)
    import_model(model, d / "model.mlir", weights="external", seq_len=SEQ)
    spec = (
        'accllm-prune-2-4{method=sparsegpt archive="sg.safetensors"},'
        'accllm-quantize{method=gptq archive="q.safetensors"}'
    )
    assert accllm_opt([str(d / "model.mlir"), "-p", spec, "-o", str(d / "q.mlir")]) == 0
    return model, d


def test_gptq_ir_is_bit_exact_with_golden_on_its_stored_integers(compressed):
    model, d = compressed
    stored = load_file(d / "q.safetensors")
    cm = compress_model(model)
    layers = []
    for i, ly in enumerate(cm.layers):
        repl = {}
        for field, hf in HF_LINEARS.items():
            key = f"model.layers.{i}.{hf}.weight"
            comp = W2Components(
                codes=stored[f"{key}.codes"],
                meta=stored[f"{key}.meta"],
                zero_point=stored[f"{key}.zero_point"],
                scale_mant=stored[f"{key}.scale_mant"],
                scale_exp=stored[f"{key}.scale_exp"],
                group=getattr(ly, field).group,
            )
            old = getattr(ly, field)
            repl[field] = gptq.to_linear(comp, old.out_features, old.in_features)
        layers.append(dataclasses.replace(ly, **repl))
    cm = dataclasses.replace(cm, layers=tuple(layers))
    (out,) = run_file(d / "q.mlir", "forward", [IDS])
    ref, _ = GoldenModel(cm, 4, 1020).prefill(IDS[0])
    np.testing.assert_array_equal(out[0], ref)
    # and the stored weights are not round-to-nearest's (the method did something)
    rtn = compress_model(model)
    assert any(
        not np.array_equal(getattr(a, f).packed, getattr(b, f).packed)
        for a, b in zip(cm.layers, rtn.layers, strict=True)
        for f in HF_LINEARS
    )


def test_pass_sparsegpt_matches_numerics_with_torch_hessians(compressed):
    model, d = compressed
    pruned = load_file(d / "sg.safetensors")
    hs: dict[str, np.ndarray] = {}
    hooks = []
    for name, mod in model.named_modules():
        if name.split(".")[-1] in {hf.split(".")[-1] for hf in HF_LINEARS.values()}:

            def hook(_m, args, _out, key=f"{name}.weight"):
                h = gptq.hessian(args[0].double().numpy())
                hs[key] = hs.get(key, 0) + h

            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        for seq in calibration_ids(model.config.vocab_size, SEQ, 4, 0):
            model(torch.from_numpy(seq[None]), attention_mask=torch.ones(1, SEQ))
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters())
    for name, h in hs.items():
        w = params[name].detach().double().numpy()
        want = gptq.sparsegpt_2_4(w, h, gptq.sparsegpt_block(w.shape[1]))
        np.testing.assert_array_equal(pruned[name] != 0, want != 0)
        np.testing.assert_allclose(pruned[name], want, rtol=1e-4, atol=1e-6)


def _layer(seed=0, n=64, k=256, t=1024):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((k, k)) * 0.3 + np.eye(k)
    x = rng.standard_normal((t, k)) @ mix * (0.5 + 2 * rng.random(k))
    w = rng.standard_normal((n, k)) * 0.05
    return w, gptq.hessian(x)


def _real(comp, n, k):
    return ct.w2_dense_real(gptq.to_linear(comp, n, k))


def test_second_order_methods_lower_the_output_error():
    w, h = _layer()
    n, k = w.shape
    mag = np.where(ct.prune_2_4_mask(w), w, 0.0)
    sg = gptq.sparsegpt_2_4(w, h, 128)
    assert gptq.output_error(w, sg, h) < 0.8 * gptq.output_error(w, mag, h)
    rtn = _real(w2_components(sg, "t", 128), n, k)
    gq = _real(gptq.gptq_components(sg, h, "t", 128), n, k)
    assert gptq.output_error(w, gq, h) < gptq.output_error(w, rtn, h)


def test_gptq_storage_is_self_consistent_and_keeps_the_mask():
    """GPTQ's integers decode (contract.w2_dense_real) to weights on the kept positions only,
    with codes in 0..3 and the zero points and mantissas the contract allows."""
    w, h = _layer(1)
    sg = gptq.sparsegpt_2_4(w, h, 64)
    comp = gptq.gptq_components(sg, h, "t", 64)
    assert comp.codes.max() <= 3 and comp.zero_point.max() <= 3
    assert comp.scale_mant.min() >= 1
    real = _real(comp, *w.shape)
    assert np.all(real[sg == 0] == 0)
    np.testing.assert_array_equal(ct.prune_2_4_mask(sg), sg != 0)


def test_gptq_with_uncorrelated_inputs_is_round_to_nearest():
    """H = I: no error can be compensated (every off-diagonal of H^-1 is 0), so GPTQ codes as
    round-to-nearest does (up to a mantissa rounding in rare groups)."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((32, 128)) * 0.05
    comp = gptq.gptq_components(w, np.eye(128), "t", 128)
    ref = w2_components(w, "t", 128)
    assert np.mean(comp.codes == ref.codes) > 0.99
    np.testing.assert_array_equal(comp.meta, ref.meta)


def test_gptq_pads_k_like_round_to_nearest():
    """K = 48 fits no W2 group: GPTQ zero-pads it to 64 as w2_components does (the padded
    inputs are dead, so their codes decode to 0) and stores the same shapes."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((8, 48)) * 0.05
    x = rng.standard_normal((256, 48))
    comp = gptq.gptq_components(np.where(ct.prune_2_4_mask(w), w, 0), gptq.hessian(x), "t", 128)
    ref = w2_components(w, "t", 128)
    assert comp.codes.shape == ref.codes.shape and comp.meta.shape == ref.meta.shape
    assert comp.group == ref.group == 64
    real = _real(comp, 8, 64)
    assert np.all(real[:, 48:] == 0)
