# ruff: noqa: E501  (hand-written IR lines are kept whole to stay readable)
"""Compressed-level smla ops on hand-written IR against hand-computed integers or independent
exact (Python big-integer / Fraction) references of the documented semantics."""

from __future__ import annotations

from fractions import Fraction
from math import floor

import numpy as np

from accllm.numerics import contract as ct
from accllm.numerics.compress import w2_components

RNG = np.random.default_rng(3)


def dense_int(a: np.ndarray, elem: str) -> str:
    body = np.array2string(np.asarray(a), separator=", ", threshold=10**6)
    return f"dense<{body}> : tensor<{'x'.join(map(str, a.shape))}x{elem}>"


def exact_round_shift(v: int, s: int) -> int:
    """floor(v / 2^s + 1/2): the documented rounding rule, in exact rationals."""
    return floor(Fraction(v, 1) / Fraction(2) ** s + Fraction(1, 2))


def test_quantize_requantize_dequantize_hand_computed(run_ir):
    # x * 2^2 = [0.5, -0.5, 1.5, 2.0, 100, -100] -> round half up -> saturate to si4 [-8, 7]
    x = np.array([[0.125, -0.125, 0.375, 0.5, 25.0, -25.0]], dtype=np.float32)
    ir = """func.func @f(%x: tensor<1x6xf32>) -> (!smla.qtensor<1x6xsi4, frac=2>, !smla.qtensor<1x6xsi32, frac=1>, !smla.qtensor<1x6xsi8, per_token>, tensor<1x6xf32>, !smla.qtensor<1x6xsi32, frac=3>) {
      %a = smla.quantize %x : tensor<1x6xf32> -> !smla.qtensor<1x6xsi4, frac=2>
      %b = smla.requantize %a : !smla.qtensor<1x6xsi4, frac=2> -> !smla.qtensor<1x6xsi32, frac=1>
      %c = smla.quantize %x : tensor<1x6xf32> -> !smla.qtensor<1x6xsi8, per_token>
      %d = smla.dequantize %c : !smla.qtensor<1x6xsi8, per_token> -> tensor<1x6xf32>
      %e = smla.requantize %c : !smla.qtensor<1x6xsi8, per_token> -> !smla.qtensor<1x6xsi32, frac=3>
      func.return %a, %b, %c, %d, %e : !smla.qtensor<1x6xsi4, frac=2>, !smla.qtensor<1x6xsi32, frac=1>, !smla.qtensor<1x6xsi8, per_token>, tensor<1x6xf32>, !smla.qtensor<1x6xsi32, frac=3>
    }"""
    a, b, c, d, e = run_ir(ir, [x])
    np.testing.assert_array_equal(a, [[1, 0, 2, 2, 7, -8]])  # -0.5 rounds up to 0
    # frac 2 -> 1: floor(v/2 + 1/2)
    np.testing.assert_array_equal(b, [[1, 0, 1, 1, 4, -4]])
    # A8: max |x| = 25 -> largest f with 25 * 2^f <= 127 is f = 2; q = round(x * 4)
    assert c["exp"].tolist() == [2]
    np.testing.assert_array_equal(c["values"], [[1, 0, 2, 2, 100, -100]])
    np.testing.assert_array_equal(d, [[0.25, 0.0, 0.5, 0.5, 25.0, -25.0]])
    np.testing.assert_array_equal(e, [[2, 0, 4, 4, 200, -200]])


def test_add_saturates_and_mul_rescales(run_ir):
    x = np.array([2**31 - 10, -(2**31) + 5, 3, -3], dtype=np.int32)
    y = np.array([100, -100, 5, 5], dtype=np.int32)
    t = "!smla.qtensor<4xsi32, frac=16>"
    m = "!smla.qtensor<4xsi32, frac=8>"
    ir = f"""func.func @f(%x: {t}, %y: {t}) -> ({t}, {m}) {{
      %a = smla.add %x, %y : {t}, {t} -> {t}
      %p = smla.mul %x, %y : {t}, {t} -> {m}
      func.return %a, %p : {t}, {m}
    }}"""
    a, p = run_ir(ir, [x, y])
    np.testing.assert_array_equal(a, [2**31 - 1, -(2**31), 8, 2])
    want = [
        max(min(exact_round_shift(int(u) * int(v), 24), 2**31 - 1), -(2**31))
        for u, v in zip(x, y, strict=True)
    ]
    np.testing.assert_array_equal(p, want)


def reference_w2_linear(q, f, codes_dense, kept, zp, mant, exp, group, frac):
    """y[t,o] = round(sum_k q[t,k] * S[o,g(k)] * (code - z) * 2^-(f[t] + e[o]) * 2^frac),
    exactly, over the kept positions; saturated to int32."""
    t_n, k_n = q.shape
    out = np.zeros((t_n, codes_dense.shape[0]), dtype=np.int64)
    for t in range(t_n):
        for o in range(codes_dense.shape[0]):
            acc = sum(
                int(q[t, k])
                * int(mant[o, k // group])
                * (int(codes_dense[o, k]) - int(zp[o, k // group]))
                for k in range(k_n)
                if kept[o, k]
            )
            v = exact_round_shift(acc, int(f[t]) + int(exp[o]) - frac)
            out[t, o] = max(min(v, 2**31 - 1), -(2**31))
    return out


def _qweight_inline(comps: dict[str, np.ndarray], typ: str) -> str:
    elems = {
        "codes": "ui8",
        "meta": "ui8",
        "zero_point": "ui8",
        "scale_mant": "ui16",
        "scale_exp": "i8",
    }
    entries = ", ".join(f"{k} = {dense_int(v, elems[k])}" for k, v in comps.items())
    return f"smla.weight {{{entries}}} : {typ}"


def _a8_input(t, k):
    q = RNG.integers(-127, 128, size=(t, k))
    f = RNG.integers(2, 9, size=t)
    return {"values": q.astype(np.int8), "exp": f.astype(np.int8)}


def test_dense_w2_linear_exact(run_ir):
    n, k, g, t = 6, 64, 32, 3
    comp = w2_components(RNG.standard_normal((n, k)) * 0.1, "test", group=g, sparse=False)
    arrays = comp.arrays()
    typ = f"!smla.qweight<{n}x{k}, ui2, group={g}>"
    x = _a8_input(t, k)
    at = f"!smla.qtensor<{t}x{k}xsi8, per_token>"
    rt = f"!smla.qtensor<{t}x{n}xsi32, frac=12>"
    ir = f"""func.func @f(%x: {at}) -> {rt} {{
      %w = {_qweight_inline(arrays, typ)}
      %y = smla.linear %x, %w {{acc_bits = 48}} : {at}, {typ} -> {rt}
      func.return %y : {rt}
    }}"""
    (y,) = run_ir(ir, [x])
    want = reference_w2_linear(
        x["values"], x["exp"], arrays["codes"], np.ones((n, k), bool), arrays["zero_point"],
        arrays["scale_mant"], arrays["scale_exp"], g, 12,
    )  # fmt: skip
    np.testing.assert_array_equal(y, want)


def test_sparse_w2_linear_with_index_metadata_and_bias_exact(run_ir):
    n, k, g, t = 4, 32, 32, 2
    comp = w2_components(RNG.standard_normal((n, k)) * 0.1, "test", group=g)
    positions = ct.patterns_to_positions(comp.meta)  # [n, k/4, 2] absolute
    index_meta = (positions % 4).reshape(n, -1).astype(np.uint8)
    arrays = {**comp.arrays(), "meta": index_meta}
    typ = f"!smla.qweight<{n}x{k}, ui2, group={g}, sparse=2:4, meta=index>"
    kept = np.zeros((n, k), bool)
    dense_codes = np.zeros((n, k), np.int64)
    np.put_along_axis(kept, positions.reshape(n, -1), True, axis=1)
    np.put_along_axis(dense_codes, positions.reshape(n, -1), comp.codes.astype(np.int64), axis=1)
    bias = np.array([2**31 - 1, -5, 0, 7], dtype=np.int64)
    x = _a8_input(t, k)
    at = f"!smla.qtensor<{t}x{k}xsi8, per_token>"
    rt = f"!smla.qtensor<{t}x{n}xsi32, frac=16>"
    bt = f"!smla.qtensor<{n}xsi32, frac=16>"
    ir = f"""func.func @f(%x: {at}) -> {rt} {{
      %w = {_qweight_inline(arrays, typ)}
      %b = smla.weight {{values = {dense_int(bias, "i32")}}} : {bt}
      %y = smla.linear %x, %w bias %b {{acc_bits = 48}} : {at}, {typ}, {bt} -> {rt}
      func.return %y : {rt}
    }}"""
    (y,) = run_ir(ir, [x])
    ref = reference_w2_linear(
        x["values"], x["exp"], dense_codes, kept, comp.zero_point, comp.scale_mant,
        comp.scale_exp, g, 16,
    )  # fmt: skip
    np.testing.assert_array_equal(y, np.clip(ref + bias, -(2**31), 2**31 - 1))


def test_int8_lm_head_exact(run_ir):
    n, k, t = 5, 16, 2
    codes = RNG.integers(-127, 128, size=(n, k))
    mant = RNG.integers(1, 2**16, size=n)
    exp = RNG.integers(10, 30, size=n)
    x = _a8_input(t, k)
    typ = f"!smla.qweight<{n}x{k}, si8>"
    comps = {"codes": (codes, "i8"), "scale_mant": (mant, "ui16"), "scale_exp": (exp, "i8")}
    entries = ", ".join(f"{c} = {dense_int(a, e)}" for c, (a, e) in comps.items())
    at = f"!smla.qtensor<{t}x{k}xsi8, per_token>"
    rt = f"!smla.qtensor<{t}x{n}xsi32, frac=16>"
    ir = f"""func.func @f(%x: {at}) -> {rt} {{
      %w = smla.weight {{{entries}}} : {typ}
      %y = smla.lm_head %x, %w {{acc_bits = 32}} : {at}, {typ} -> {rt}
      func.return %y : {rt}
    }}"""
    (y,) = run_ir(ir, [x])
    for ti in range(t):
        for o in range(n):
            acc = sum(int(a) * int(b) for a, b in zip(x["values"][ti], codes[o], strict=True))
            v = exact_round_shift(acc * int(mant[o]), int(x["exp"][ti]) + int(exp[o]) - 16)
            assert y[ti, o] == max(min(v, 2**31 - 1), -(2**31))


def test_rope_inverse_frequencies_match_hf_to_float32_rounding(run_ir):
    """The contract's RoPE frequencies (float64, from theta and head_dim alone) are HF's
    float32 inverse frequencies up to float32 rounding."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    for theta, hd in ((10000.0, 16), (500000.0, 128), (1e6, 64)):
        cfg = LlamaConfig(hidden_size=hd * 2, num_attention_heads=2, head_dim=hd, rope_theta=theta)
        want = LlamaRotaryEmbedding(cfg).inv_freq.double().numpy()
        np.testing.assert_allclose(ct.rope_inv_freq(theta, hd), want, rtol=2**-23, atol=0)
