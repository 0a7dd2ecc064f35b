"""backend/hls/contract.h vs accllm.numerics.contract, bit for bit.

One g++ build of contract_harness.cpp per test session; every test sends random and edge-case
vectors through it and compares each printed integer with the Python contract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accllm.backend.hls import csim
from accllm.backend.hls.numerics_header import HEADER_NAME, numerics_header
from accllm.numerics import contract as ct
from accllm.numerics.compress import compress_linear

HERE = Path(__file__).parent
HLS_DIR = Path(ct.__file__).parents[1] / "backend" / "hls"
RNG_SEED = 1234


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    """Compile the harness once; returns a function running a list of command lines."""
    d = tmp_path_factory.mktemp("hls_contract")
    (d / HEADER_NAME).write_text(numerics_header())
    exe = d / "contract_harness"
    warnings = csim.compile_cpp([HERE / "contract_harness.cpp"], exe, [HLS_DIR, d])
    assert warnings == "", warnings

    def run(lines: list[str]) -> list[list[int]]:
        out = csim.run(exe, "\n".join(lines) + "\n").splitlines()
        assert len(out) == len(lines)
        return [[int(v) for v in line.split()] for line in out]

    return run


def _ints(a) -> str:
    return " ".join(str(int(v)) for v in np.ravel(a))


def test_round_shift_saturate_requantize(harness):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.integers(-(1 << 40), 1 << 40, 400)
    s = rng.integers(-20, 48, 400)
    # Edge cases: exact halves (ties round up), zero shift, the widest shifts.
    x = np.concatenate([x, [-5, 5, -3, 3, -1, 1, 0, (1 << 62) - 1, -(1 << 62), -(1 << 40)]])
    s = np.concatenate([s, [1, 1, 1, 1, 1, 1, 0, 62, 62, -22]])
    got = harness([f"rs {a} {b}" for a, b in zip(x, s, strict=True)])
    assert [g[0] for g in got] == list(ct.round_shift(x, s))

    v = np.concatenate(
        [rng.integers(-(1 << 34), 1 << 34, 200), [127, 128, -128, -129, 65535, 65536]]
    )
    v = np.concatenate([v, [(1 << 31) - 1, 1 << 31, -(1 << 31), -(1 << 31) - 1, -1, 0]])
    got = np.array(harness([f"sat {a}" for a in v]))
    assert list(got[:, 0]) == list(ct.saturate(v, 32))
    assert list(got[:, 1]) == list(ct.saturate(v, 8))
    assert list(got[:, 2]) == list(ct.saturate(v, 16, signed=False))

    acc = np.concatenate([rng.integers(-(1 << 31), 1 << 31, 300), [-(1 << 31), (1 << 31) - 1]])
    m = np.concatenate([rng.integers(0, 1 << 16, 300), [65535, 65535]])
    sh = np.concatenate([rng.integers(0, 48, 300), [0, 47]])
    got = np.array(harness([f"rq {a} {b} {c}" for a, b, c in zip(acc, m, sh, strict=True)]))
    assert list(got[:, 0]) == list(ct.requantize(acc, m, sh, 32))
    assert list(got[:, 1]) == list(ct.requantize_pow2(acc, sh, 32))


def _tokens(rng, d):
    """Rows at many magnitudes plus the edge rows (all zero, one tiny value, int32 extremes)."""
    rows = [rng.integers(-(1 << b), 1 << b, d) for b in range(1, 32) for _ in range(2)]
    edge = np.zeros((5, d), dtype=np.int64)
    edge[1, 3] = 1
    edge[2, :] = (1 << 31) - 1
    edge[3, :] = -(1 << 31)
    edge[4, ::2] = -(1 << 31)
    return np.concatenate([np.stack(rows), edge])


def test_a8_quantizer(harness):
    x = _tokens(np.random.default_rng(RNG_SEED + 1), 16)
    got = np.array(harness([f"a8 16 {_ints(row)}" for row in x]))
    q, f = ct.quantize_act_pow2(x, ct.NUMERICS.res_frac)
    np.testing.assert_array_equal(got[:, 0], f)
    np.testing.assert_array_equal(got[:, 1:], q)


def test_kv4_quantizer_and_dequantizer(harness):
    x = _tokens(np.random.default_rng(RNG_SEED + 2), 16)
    x = np.clip(x, -(1 << 31) + 1, (1 << 31) - 1)  # KV range hi - lo must fit e = -32
    got = np.array(harness([f"kv4 16 {_ints(row)}" for row in x]))
    codes, z, e = ct.kv4_quantize(x)
    np.testing.assert_array_equal(got[:, 0], e)
    np.testing.assert_array_equal(got[:, 1], z)
    np.testing.assert_array_equal(got[:, 2:], codes)

    c, zz = np.meshgrid(np.arange(16), np.arange(16))
    ee = np.arange(c.size) % 48 - 16  # exponents -16..31 around RES_FRAC
    got = harness([f"kvdq {a} {b} {g}" for a, b, g in zip(c.ravel(), zz.ravel(), ee, strict=True)])
    ref = ct.kv4_dequantize(c.ravel()[:, None], zz.ravel(), ee)[:, 0]
    assert [g[0] for g in got] == list(ref)


def test_lambda_slot_and_visibility(harness):
    lines, ref_slot = [], []
    for sinks, window in ((0, 1), (2, 6), (4, 5), (4, 1020)):
        for p in range(0, 3 * (sinks + window) + 7):
            lines.append(f"slot {p} {sinks} {window}")
            ref_slot.append(int(ct.lambda_slot(p, sinks, window)))
    assert [g[0] for g in harness(lines)] == ref_slot
    i, j = np.meshgrid(np.arange(20), np.arange(-1, 20))
    lines = [f"vis {a} {b} 2 6" for a, b in zip(i.ravel(), j.ravel(), strict=True)]
    ref = ct.lambda_visible(i.ravel(), j.ravel(), 2, 6).astype(int)
    assert [g[0] for g in harness(lines)] == list(ref)


def test_softmax_rows(harness):
    rng = np.random.default_rng(RNG_SEED + 3)
    n = 24
    s = np.concatenate(
        [rng.integers(-(1 << 14), 1 << 14, (40, n)), rng.integers(-(1 << 28), 1 << 28, (10, n))]
    )
    vis = rng.random(s.shape) < 0.7
    vis[0] = False  # nothing visible: all zeros
    vis[1] = True
    s[1, :] = 7  # all equal
    s[2, 0] = s[2].max() + (21 << ct.NUMERICS.sm_frac)  # the others underflow to 0
    got = np.array(harness([f"sm {n} {_ints(a)} {_ints(b)}" for a, b in zip(s, vis, strict=True)]))
    np.testing.assert_array_equal(got, ct.softmax_int(s, vis))


def test_rsqrt(harness):
    rng = np.random.default_rng(RNG_SEED + 4)
    v = np.concatenate(
        [
            np.exp2(rng.uniform(0, 61.9, 300)).astype(np.int64).clip(1),
            [1, 2, 3, 4, (1 << 30) - 1, 1 << 30, (1 << 32) - 1, 1 << 32, (1 << 62) - 1],
        ]
    )
    got = np.array(harness([f"rsqrt {a}" for a in v]))
    y, k = ct.rsqrt_int(v)
    np.testing.assert_array_equal(got[:, 0], y)
    np.testing.assert_array_equal(got[:, 1], k)


def test_rmsnorm_rows(harness):
    rng = np.random.default_rng(RNG_SEED + 5)
    h = 64
    gain, gain_shift, eps_q = ct.rmsnorm_params(1.0 + 0.3 * rng.standard_normal(h), 1e-5)
    x = _tokens(rng, h)
    lines = [f"rms {h} {gain_shift} {eps_q} {_ints(gain)} {_ints(row)}" for row in x]
    np.testing.assert_array_equal(
        np.array(harness(lines)), ct.rmsnorm_int(x, gain, gain_shift, eps_q)
    )


def test_silu_swiglu(harness):
    rng = np.random.default_rng(RNG_SEED + 6)
    lim = ct.NUMERICS.sig_range << ct.NUMERICS.res_frac
    x = np.concatenate(
        [
            rng.integers(-(1 << 31), 1 << 31, 300),
            rng.integers(-2 * lim, 2 * lim, 300),
            [-lim - 1, -lim, -lim + 1, lim - 1, lim, lim + 1, 0, -(1 << 31), (1 << 31) - 1],
        ]
    )
    assert [g[0] for g in harness([f"silu {a}" for a in x])] == list(ct.silu_int(x))
    u = rng.integers(-(1 << 31), 1 << 31, x.size)
    got = harness([f"swiglu {a} {b}" for a, b in zip(x, u, strict=True)])
    assert [g[0] for g in got] == list(ct.swiglu_int(x, u))


def test_rope(harness):
    rng = np.random.default_rng(RNG_SEED + 7)
    hd, maxp = 16, 300
    tables = ct.rope_tables(10000.0 ** (-np.arange(0, hd, 2) / hd), maxp)
    pos = rng.integers(0, maxp, 40)
    x = rng.integers(-(1 << 31), 1 << 31, (40, 1, hd))
    lo, hi = pos & 63, pos >> 6
    lines = []
    for t in range(len(pos)):
        for i in range(hd // 2):
            cl, sl = tables.cos_lo[lo[t], i], tables.sin_lo[lo[t], i]
            ch, sh = tables.cos_hi[hi[t], i], tables.sin_hi[hi[t], i]
            lines.append(f"rope {cl} {sl} {ch} {sh} {x[t, 0, i]} {x[t, 0, i + hd // 2]}")
    got = np.array(harness(lines)).reshape(len(pos), hd // 2, 4)
    c, s = ct.rope_cos_sin(pos, tables)
    y = ct.rope_int(x, pos, tables)[:, 0]
    np.testing.assert_array_equal(got[..., 0], c)
    np.testing.assert_array_equal(got[..., 1], s)
    np.testing.assert_array_equal(got[..., 2], y[:, : hd // 2])
    np.testing.assert_array_equal(got[..., 3], y[:, hd // 2 :])


@pytest.mark.parametrize("k,group", [(64, 64), (128, 128), (160, 32), (288, 32)])
def test_sparse_group_mac_on_packed_stream(harness, k, group):
    """K = 160 and 288 span two or more 256-bit words (36 blocks each), and groups of 32 cross
    word boundaries, so the stream indexing is exercised, not just one word."""
    rng = np.random.default_rng(RNG_SEED + k)
    n = 12
    lin = compress_linear(rng.standard_normal((n, k)), f"test{k}", group)
    assert lin.group == group
    x = rng.integers(-128, 128, (3, k))  # -128 included: the MAC bound allows any int8
    codes, patterns = ct.unpack_2_4_w2(lin.packed, k)
    ref = ct.sparse_group_mac(x, codes, patterns, lin.zp, lin.scale_mant, group)
    nw = lin.packed.shape[1]
    lines = [
        f"mac {k} {group} {nw} {_ints(x[t])} {_ints(lin.packed[o])} {_ints(lin.zp[o])} "
        f"{_ints(lin.scale_mant[o])}"
        for t in range(3)
        for o in range(n)
    ]
    got = np.array([g[0] for g in harness(lines)]).reshape(3, n)
    np.testing.assert_array_equal(got, ref)
    # and the full W2A8 linear built on it: one rounding shift per output.
    f = np.array([-3, 0, 5])
    y = ct.requantize_pow2(got, f[:, None] + lin.scale_exp[None, :].astype(np.int64) - 16, 32)
    np.testing.assert_array_equal(y, ct.linear_w2a8(x, f, lin))
