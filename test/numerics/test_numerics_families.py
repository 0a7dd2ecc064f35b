"""Contract pieces the model families need: the linear bias stage, zero-padded K, and the rule
that tells a default RoPE from a scaled one (transformers' rope init functions as reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from accllm.numerics import contract as ct
from accllm.numerics.compress import compress_linear


def test_bias_is_q15_16_and_added_after_the_requantizer_with_saturation():
    b = ct.quantize_bias([0.5, -0.25, 1.0 / 3.0, 1e6, -1e6])
    assert b.tolist() == [32768, -16384, 21845, 2**31 - 1, -(2**31)]
    y = np.array([[2**31 - 10, -(2**31) + 5, 7, 0, 0]])
    got = ct.linear_bias_add(y, b)
    assert got.tolist() == [[2**31 - 1, -(2**31), 21852, 2**31 - 1, -(2**31)]]


def test_w2a8_linear_with_bias_equals_unbiased_plus_bias():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(24, 64)) / 8
    b = rng.normal(size=24)
    plain, biased = compress_linear(w, "t"), compress_linear(w, "t", bias=b)
    x, f = ct.quantize_act_pow2(rng.integers(-(2**18), 2**18, size=(3, 64)), 16)
    want = ct.saturate(ct.linear_w2a8(x, f, plain) + ct.quantize_bias(b)[None, :], 32)
    np.testing.assert_array_equal(ct.linear_w2a8(x, f, biased), want)
    assert not np.array_equal(want, ct.linear_w2a8(x, f, plain))


@pytest.mark.parametrize("k", [4, 36, 80, 264, 100])
def test_padded_k_is_zero_padding(k):
    kp = ct.padded_k(k)
    assert kp % 32 == 0 and 0 <= kp - k < 32
    rng = np.random.default_rng(k)
    w = rng.normal(size=(8, k))
    lin = compress_linear(w, "t")
    assert lin.in_features == kp and ct.group_size_for(kp) == lin.group
    x, f = ct.quantize_act_pow2(rng.integers(-(2**18), 2**18, size=(2, k)), 16)
    # the padded columns of the stored weight are zero, so the padded inputs never matter
    np.testing.assert_array_equal(ct.w2_dense_real(lin)[:, k:], 0)
    np.testing.assert_array_equal(
        ct.linear_w2a8(x, f, lin), ct.linear_w2a8(ct.pad_inputs(x, kp), f, lin)
    )
    with pytest.raises(ValueError, match="does not pad to"):
        ct.pad_inputs(np.zeros((1, kp + 1)), kp)


def test_rope_default_theta_tells_default_from_scaled_frequencies():
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    def hf(rope, hd=128):
        cfg = LlamaConfig(head_dim=hd, hidden_size=hd * 4, num_attention_heads=4)
        cfg.rope_parameters = rope
        if rope["rope_type"] == "default":  # the model's own buffer (HF's default init)
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

            return LlamaRotaryEmbedding(cfg).inv_freq.numpy()
        return ROPE_INIT_FUNCTIONS[rope["rope_type"]](cfg, torch.device("cpu"))[0].numpy()

    for theta in (10000.0, 500000.0, 1000000.0):
        w = hf({"rope_type": "default", "rope_theta": theta})
        assert ct.rope_default_theta(w, 128) == theta
    llama3 = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0}
    llama3 |= {"low_freq_factor": 1.0, "high_freq_factor": 4.0}
    llama3["original_max_position_embeddings"] = 8192
    assert ct.rope_default_theta(hf(llama3), 128) is None
    linear = {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}
    assert ct.rope_default_theta(hf(linear), 128) is None
    # the tables of a scaled model are built from its own frequencies, not from theta
    w = hf(llama3).astype(np.float64)
    t = ct.rope_tables(w, 8192)
    assert not np.array_equal(t.cos_hi, ct.rope_tables(ct.rope_inv_freq(5e5, 128), 8192).cos_hi)
