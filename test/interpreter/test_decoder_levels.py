"""The whole tiny decoder as hand-written IR, interpreted, against the independent references:
compressed level bit for bit against the integer golden model (numerics/golden.py) on the same
parameters; model level against HF PyTorch fp32 logits."""

from __future__ import annotations

import time

import numpy as np
import torch

from accllm.interpreter.runner import load_module, run_function
from accllm.numerics.golden import GoldenModel

IDS = np.array([[5, 17, 200, 3, 99, 41, 7, 255, 0, 128]], dtype=np.int64)


def _run(path, entry, inputs):
    return run_function(load_module(path), entry, inputs, base_dir=path.parent)


def test_compressed_prefill_matches_golden_bit_for_bit(tiny, decoder_ir):
    t = 8
    ir = decoder_ir("w2", t, sink=2, window=4).write("w2_prefill.mlir")
    ids = IDS[:, :t]
    start = time.perf_counter()
    (logits,) = _run(ir, "forward", [ids, np.arange(t)])
    elapsed = time.perf_counter() - start
    want, _ = GoldenModel(tiny.cm, sinks=2, window=4).prefill(ids[0])
    assert logits.dtype == np.int32 and logits.shape == (1, t, tiny.cfg.vocab_size)
    np.testing.assert_array_equal(logits[0], want)
    assert elapsed < 5.0  # generous on a loaded 2-core machine; typically ~0.1 s


def test_compressed_prefill_then_decode_with_kv4_cache_matches_golden(tiny, decoder_ir):
    """Prefill 6 tokens into S=2 + W=3 slots (the window wraps), then 4 decode steps; logits
    and the packed KV4 caches equal the golden model's after every call."""
    sink, window, t0 = 2, 3, 6
    pre = decoder_ir("w2", t0, sink, window).write("w2_cache_prefill.mlir", with_cache=True)
    step = decoder_ir("w2", 1, sink, window).write("w2_cache_step.mlir", with_cache=True)
    pre_m, step_m = load_module(pre), load_module(step)
    caches = run_function(pre_m, "init", [], base_dir=pre.parent)
    gm = GoldenModel(tiny.cm, sinks=sink, window=window)
    want, gcache = gm.prefill(IDS[0, :t0])
    logits, *caches = run_function(
        pre_m, "forward", [IDS[:, :t0], np.arange(t0)] + caches, base_dir=pre.parent
    )
    np.testing.assert_array_equal(logits[0], want)
    for p in range(t0, IDS.shape[1]):
        tok = IDS[:, p : p + 1]
        logits, *caches = run_function(
            step_m, "forward", [tok, np.array([p])] + caches, base_dir=step.parent
        )
        np.testing.assert_array_equal(logits[0], gm.forward(tok[0], p, gcache))
        for layer, c in enumerate(caches):
            assert int(c["n"]) == p + 1
            np.testing.assert_array_equal(c["pos"], gcache.pos[layer])
            np.testing.assert_array_equal(c["k_packed"], gcache.k_packed[layer])
            np.testing.assert_array_equal(c["v_exp"], gcache.v_exp[layer])


def _hf_logits(model, ids) -> np.ndarray:
    with torch.no_grad():
        out = model(torch.from_numpy(ids), attention_mask=torch.ones_like(torch.from_numpy(ids)))
    return out.logits.numpy()


def _assert_rel_close(got, want, rel=1e-4):
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < rel, f"max |diff| / max |ref| = {err:.2e}"


def test_model_level_prefill_matches_pytorch_fp32(tiny, decoder_ir):
    t = IDS.shape[1]
    # Sinks + window cover every token: plain causal attention, as HF computes it.
    ir = decoder_ir("float", t, sink=0, window=t).write("f32_prefill.mlir")
    (logits,) = _run(ir, "forward", [IDS, np.arange(t)])
    assert logits.dtype == np.float32
    _assert_rel_close(logits, _hf_logits(tiny.model, IDS))


def test_model_level_decode_with_float_cache_matches_pytorch_fp32(tiny, decoder_ir):
    t = IDS.shape[1]
    step = decoder_ir("float", 1, sink=0, window=t).write("f32_step.mlir", with_cache=True)
    m = load_module(step)
    caches = run_function(m, "init", [], base_dir=step.parent)
    rows = []
    for p in range(t):
        logits, *caches = run_function(
            m, "forward", [IDS[:, p : p + 1], np.array([p])] + caches, base_dir=step.parent
        )
        rows.append(logits[0, 0])
    _assert_rel_close(np.stack(rows), _hf_logits(tiny.model, IDS)[0])
