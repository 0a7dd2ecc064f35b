"""Unit tests of the compression passes' helpers: calibration tokens, the streamed archive
writer and the report's storage arithmetic."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import load_file
from xdsl.dialects.builtin import IntegerType, Signedness

from accllm.backend.compression_report import kv_bits_per_token_head, weight_bits
from accllm.dialects.quant_types import QWeightType, SparsityAttr
from accllm.numerics.calibration import calibration_ids, splitmix64
from accllm.passes.param_archive import ArchiveWriter


def test_splitmix64_reference_vector():
    # Published first outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
    assert [hex(int(v)) for v in splitmix64(0, 3)] == [
        "0xe220a8397b1dcdaf",
        "0x6e789e6aa1b965f4",
        "0x6c45d188009454f",
    ]


def test_calibration_ids_shape_range_and_seed():
    a = calibration_ids(1000, 16, 3, seed=5)
    assert a.shape == (3, 16) and a.dtype == np.int64
    assert a.min() >= 0 and a.max() < 1000
    assert np.array_equal(a, calibration_ids(1000, 16, 3, seed=5))
    assert not np.array_equal(a, calibration_ids(1000, 16, 3, seed=6))


def test_archive_writer_reads_back_with_safetensors(tmp_path):
    arrays = {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b.codes": np.array([[0, 3], [2, 1]], dtype=np.uint8),
        "b.scale_mant": np.array([65535, 1], dtype=np.uint16),
        "c": np.array([-5], dtype=np.int8),
    }
    w = ArchiveWriter(tmp_path / "x.safetensors")
    for k, v in arrays.items():
        w.add(k, v)
    w.close()
    back = load_file(tmp_path / "x.safetensors")
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]  # no temporary left


def test_report_bits_of_a_llama7b_projection():
    """4096x4096, G=128, 2:4: 1 + 0.75 bits of codes and patterns, 29 words for 1024 blocks
    (29*256 - 1024*7 = 256 bits padding per row = 0.0625), 18 bits per group of 128 and an
    8-bit exponent per row: 1.953125 bits per dense weight."""
    t = QWeightType((4096, 4096), IntegerType(2, Signedness.UNSIGNED), 128, SparsityAttr())
    wb = weight_bits(t)
    per = {k: v / (4096 * 4096) for k, v in wb.parts.items()}
    assert per == {
        "codes": 1.0,
        "meta": 0.75,
        "padding": 0.0625,
        "zero_point": 2 / 128,
        "scale_mant": 16 / 128,
        "scale_exp": 8 / 4096,
    }
    assert wb.total_bits == 4096 * (4096 + 3072 + 256 + 32 * 18 + 8)


def test_report_kv4_bits():
    # 128 codes of 4 bits + int8 exponent + 4-bit zero point
    assert kv_bits_per_token_head(128, None) == 524
