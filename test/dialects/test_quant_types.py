"""The smla/lattn types describe the numerics contract: cross-checks against
`accllm.numerics.contract` (computed there independently of the dialect code)."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import IntegerType, Signedness
from xdsl.utils.exceptions import VerifyException

from accllm.dialects import lattn, smla
from accllm.dialects.quant_types import QWeightType, SparsityAttr
from accllm.numerics import contract

UI2 = IntegerType(2, Signedness.UNSIGNED)
SI8 = IntegerType(8, Signedness.SIGNED)


def test_sparsity_rejects_unknown_metadata_when_built_in_python():
    with pytest.raises(VerifyException, match="sparsity metadata 'bitmap' must be one of"):
        SparsityAttr(2, 4, "bitmap")


@pytest.mark.parametrize("k", [64, 4096, 11008])
def test_w2_accumulator_bound_is_the_contracts(k):
    w = QWeightType((8, k), UI2, group=contract.group_size_for(k), sparsity=SparsityAttr())
    assert smla.linear_acc_bound(w) == contract.sparse_mac_acc_bound(k)


def test_int8_accumulator_fits_the_requantizer_input_up_to_the_contract_limit():
    # contract.linear_int8 feeds a signed 32-bit requantizer input.
    assert smla.linear_acc_bound(QWeightType((4, 132_104), SI8)) < 2**31
    assert smla.linear_acc_bound(QWeightType((4, 132_105), SI8)) >= 2**31


def test_accumulator_bound_is_reached_by_the_contract_mac():
    # Worst case operands: x = -128 everywhere, codes 3 with zero point 0, mantissa 65535.
    k, g = 256, 128
    w = QWeightType((1, k), UI2, group=g, sparsity=SparsityAttr())
    x = np.full((1, k), -128)
    codes = np.full((1, k // 4, 2), 3)
    patterns = np.zeros((1, k // 4), dtype=np.int64)
    zp = np.zeros((1, k // g), dtype=np.int64)
    mant = np.full((1, k // g), 65535)
    acc = contract.sparse_group_mac(x, codes.reshape(1, -1, 2), patterns, zp, mant, g)
    assert abs(int(acc[0, 0])) == smla.linear_acc_bound(w)


def test_w2_components_have_the_contract_quantizer_shapes():
    n, k, g = 4, 256, 64
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((n, k))
    mask = contract.prune_2_4_mask(dense)
    kept = dense[mask].reshape(n, k // g, g // 2)
    codes, zp, mant, exp = contract.quantize_w2_groups(kept)
    meta = contract.mask_to_patterns(mask)
    comps = QWeightType((n, k), UI2, group=g, sparsity=SparsityAttr()).components()
    assert comps == {
        "codes": codes.reshape(n, -1).shape,
        "zero_point": zp.shape,
        "scale_mant": mant.shape,
        "scale_exp": exp.shape,
        "meta": meta.shape,
    }


def test_kv4_head_dim_limit_is_the_score_bound():
    # contract.attention_lambda: |dot| <= 127 * 15 * hd < 2^31.
    hd = lattn.kv4_max_head_dim()
    assert 127 * 15 * hd < 2**31 <= 127 * 15 * (hd + 1)


def test_lambda_bound_matches_the_softmax_reciprocal():
    # With every key at its maximum weight 2^15, R = floor(2^47 / Z) must stay >= 1.
    z = lattn.MAX_ATTENDED_KEYS * (1 << contract.NUMERICS.exp2_frac)
    assert (1 << contract.NUMERICS.recip_bits) // z >= 1
    assert (1 << contract.NUMERICS.recip_bits) // (z + (1 << 15)) == 0
