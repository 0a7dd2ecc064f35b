"""Integer golden model vs the float fake-quant model, Λ cache behaviour, GQA, default model."""

import dataclasses

import numpy as np
import pytest
import torch

from accllm.models.default import build_model, default_config, save_checkpoint
from accllm.numerics.compress import compress_model
from accllm.numerics.fakequant import FakeQuantModel
from accllm.numerics.golden import GoldenModel

S, W = 2, 6
STEPS = 3 * (S + W)


@pytest.fixture(scope="module", params=[False, True], ids=["mha", "gqa"])
def tiny(request):
    model = build_model(default_config(gqa=request.param), seed=0)
    return model, compress_model(model)


def _ids(seed, n=STEPS):
    return np.random.default_rng(seed).integers(0, 256, n)


def _assert_close_to_fakequant(logits_int, cm, ids):
    """Tolerance (justified): golden and fake-quant share every quantized parameter and every
    quantizer rule; they differ only by the fixed-point nonlinear units (rsqrt, 2^x, sigmoid,
    cos/sin: each < 1e-4 relative, unit tests above) and the Q15.16 rounding of intermediates.
    Those tiny differences occasionally flip a rounding decision of an A8 code (one step =
    1/127 of the token max) or a KV4 code (one step = 1/15 of the head's range), which then
    propagates. Measured (here and over the accuracy report's 384 positions): cosine >= 0.999,
    max |diff| <= 0.15 x logit std, top-1 agreement >= 0.95. The bounds below keep margin
    while still failing on any real arithmetic bug (a wrong shift or scale gives cosine < 0.9;
    compression itself is ~0.78 vs fp32)."""
    got = logits_int / 65536.0
    with torch.no_grad():
        ref = FakeQuantModel(cm, S, W)(ids).numpy()
    cos = (got * ref).sum(-1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(ref, axis=-1)
    assert cos.min() > 0.998
    assert np.abs(got - ref).max() < 0.2 * ref.std()
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_golden_prefill_vs_fakequant(tiny, seed):
    _, cm = tiny
    ids = _ids(seed)
    logits, _ = GoldenModel(cm, S, W).prefill(ids)
    _assert_close_to_fakequant(logits, cm, ids)


def test_golden_decode_vs_fakequant_and_prefill(tiny):
    """Decode over 3 x (S + W) steps through the ring-buffer cache: within tolerance of the
    fake-quant model, and bit-identical to prefill (a different code path: all keys of the
    prompt under the Λ mask instead of the cache slots)."""
    _, cm = tiny
    ids = _ids(7)
    g = GoldenModel(cm, S, W)
    dec = g.decode_logits(ids)
    _assert_close_to_fakequant(dec, cm, ids)
    pre, _ = g.prefill(ids)
    assert np.array_equal(dec, pre)
    # chunked prefill (continuing a cache) is the same computation too
    cache = g.new_cache()
    part = np.concatenate([g.forward(ids[:5], 0, cache), g.forward(ids[5:], 5, cache)])
    assert np.array_equal(part, pre)


def test_lambda_cache_memory_constant(tiny):
    _, cm = tiny
    g = GoldenModel(cm, S, W)
    cache = g.new_cache()
    shapes = [a.shape for a in (cache.k_packed, cache.v_packed, cache.k_zp, cache.pos)]
    nbytes = cache.nbytes
    assert cache.k_packed.shape == (len(cm.layers), cm.n_kv_heads, S + W, cm.head_dim // 2)
    for p, t in enumerate(_ids(3)):
        g.forward([t], p, cache)
        assert cache.nbytes == nbytes
        assert [a.shape for a in (cache.k_packed, cache.v_packed, cache.k_zp, cache.pos)] == shapes
        held = set(cache.pos[0][cache.pos[0] >= 0].tolist())
        assert held == set(range(min(p + 1, S))) | set(range(max(0, p - W + 1), p + 1))


def test_gqa_equals_mha_with_repeated_kv_heads():
    """A GQA model and the MHA model whose K/V projections repeat each KV head for its query
    heads must give identical integers (KV quantization is per head, so repeating heads
    changes nothing)."""
    cm = compress_model(build_model(default_config(gqa=True), seed=3))
    rep = cm.n_heads // cm.n_kv_heads
    rows = np.concatenate(
        [np.arange(h // rep * cm.head_dim, (h // rep + 1) * cm.head_dim) for h in range(cm.n_heads)]
    )

    def expand(lin):
        return dataclasses.replace(
            lin,
            packed=lin.packed[rows],
            zp=lin.zp[rows],
            scale_mant=lin.scale_mant[rows],
            scale_exp=lin.scale_exp[rows],
            out_features=len(rows),
        )

    layers = tuple(dataclasses.replace(ly, k=expand(ly.k), v=expand(ly.v)) for ly in cm.layers)
    mha = dataclasses.replace(cm, layers=layers, n_kv_heads=cm.n_heads)
    ids = _ids(11, 12)
    a, _ = GoldenModel(cm, S, W).prefill(ids)
    b, _ = GoldenModel(mha, S, W).prefill(ids)
    assert np.array_equal(a, b)


def test_generate_is_greedy_argmax_chain(tiny):
    _, cm = tiny
    g = GoldenModel(cm, S, W)
    prompt = _ids(5, 4)
    toks, steps = g.generate(prompt, 10)
    full = g.decode_logits(np.concatenate([prompt, toks]))
    want = full[len(prompt) - 1 : -1].argmax(-1)
    assert toks.tolist() == want.tolist()
    assert np.array_equal(steps, full[len(prompt) :])


def test_decode_speed(tiny):
    import time

    _, cm = tiny
    t0 = time.perf_counter()
    GoldenModel(cm, S, W).decode_logits(_ids(9, 30))
    assert time.perf_counter() - t0 < 5.0


def test_group_size_adapts_per_layer(tiny):
    _, cm = tiny
    ly = cm.layers[0]
    assert ly.q.group == 64 and ly.gate.group == 64 and ly.down.group == 128


def test_compress_rejects_unsupported_sizes():
    """K = 50 is zero-padded to 64 for the groups, but 2:4 needs blocks of 4 inputs."""
    cfg = default_config()
    cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads = 50, 5, 5
    cfg.head_dim = 10
    with pytest.raises(ValueError, match=r"layers\.0\.self_attn\.q_proj: 2:4 pruning .* got 50"):
        compress_model(build_model(cfg, seed=0))


def test_default_model_seeded_and_checkpoint_roundtrip(tmp_path):
    from transformers import LlamaForCausalLM

    a = build_model(default_config(), seed=0)
    b = build_model(default_config(), seed=0)
    c = build_model(default_config(), seed=1)
    wa = a.model.layers[0].self_attn.q_proj.weight
    assert torch.equal(wa, b.model.layers[0].self_attn.q_proj.weight)
    assert not torch.equal(wa, c.model.layers[0].self_attn.q_proj.weight)
    assert abs(float(wa.detach().std()) - 0.125) < 0.02  # the documented init scale
    path = save_checkpoint(a, tmp_path / "tiny")
    assert (path / "model.safetensors").exists()
    loaded = LlamaForCausalLM.from_pretrained(path).eval()
    ids = torch.tensor(_ids(2, 10))[None]
    with torch.no_grad():
        assert torch.equal(a(ids).logits, loaded(ids).logits)


def test_compressed_archive_roundtrip(tiny, tmp_path):
    """The safetensors parameter archive reloads into a model with identical integer logits
    and identical packed words."""
    from accllm.numerics.compress import load_compressed, save_compressed

    _, cm = tiny
    save_compressed(cm, tmp_path / "c.safetensors")
    cm2 = load_compressed(tmp_path / "c.safetensors")
    assert np.array_equal(cm2.layers[1].down.packed, cm.layers[1].down.packed)
    ids = _ids(4, 10)
    assert np.array_equal(
        GoldenModel(cm, S, W).prefill(ids)[0], GoldenModel(cm2, S, W).prefill(ids)[0]
    )
