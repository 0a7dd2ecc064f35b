"""The stream unit's per-channel layout (`tiling.StreamLayout`, `accel_program.w2_stream_image` /
`int8_stream_image`) read back the way `rtl_lib/stream_linear_unit.sv`'s router and feeder read
it: words routed by a running count (metadata rounds while a lane still owes entries, then the
weight rounds, lanes_in_pass words per round), each lane's entries taken in order. The decoded
rows, zero points, mantissas and exponents must be the layer's; and the encoder refuses what the
unit cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.backend.sim.stream_linear_unit_run import random_int8_case, random_layer
from accllm.backend.target_desc import derive_engine, load_target
from accllm.numerics import contract as ct


def decode(layout: tiling.StreamLayout, words: list[int]):
    """Router + feeder: per pass and lane, (weight words, entries) of the lane's row."""
    split, epw = layout.split, layout.entries_per_word
    bits = tiling.STREAM_ENTRY_BITS[layout.precision]
    lane_entries: list[list[int]] = [[] for _ in range(split.lanes)]
    out, i, need = [], 0, 0
    for p in range(split.passes):
        lip = layout.lanes_in_pass(p)
        need += layout.entries_per_row
        while need > 0:  # one metadata round: a word per lane
            for lane in range(lip):
                w = words[i]
                lane_entries[lane] += [(w >> (bits * j)) & ((1 << bits) - 1) for j in range(epw)]
                i += 1
            need -= epw
        rows = [[] for _ in range(lip)]
        for _ in range(layout.words_per_row):
            for lane in range(lip):
                rows[lane].append(words[i])
                i += 1
        for lane in range(lip):
            ents = lane_entries[lane][: layout.entries_per_row]
            del lane_entries[lane][: layout.entries_per_row]
            out.append((p, lane, rows[lane], ents))
    assert i == layout.words and not any(words[i:]), "words past the layout must be padding"
    return out


@pytest.mark.parametrize(
    "n, k, group, lanes, wpb, bias",
    [
        (64, 128, 64, 4, 1, False),
        (40, 256, 32, 3, 2, False),
        (200, 96, 32, 22, 2, False),
        (24, 64, 32, 4, 2, False),
        (40, 256, 32, 3, 2, True),
    ],
)
def test_w2_stream_reads_back_as_the_layer(n, k, group, lanes, wpb, bias):
    """Each row's entries: the exponent, a biased row's bias halves (low, high), the groups'."""
    rng = np.random.default_rng(n + k)
    lin = random_layer(rng, n, k, group, bias)
    per = tiling.ceil_div(n, 2)
    split = tiling.RowSplit(per, tiling.ceil_div(n, per), tiling.ceil_div(per, lanes), lanes)
    layout = tiling.stream_layout(n, k, group, "w2", split, wpb, bias)
    lead = layout.lead_entries
    rows = ct.words_to_ints(lin.packed)
    seen = set()
    for c, words in enumerate(ap.w2_stream_image(lin, layout)):
        assert len(words) % wpb == 0
        for p, lane, wds, ents in decode(layout, words):
            slot = p * lanes + lane
            r = c * per + slot
            if slot >= per or r >= n:  # padding rows stream zeros
                assert not any(wds) and not any(ents)
                continue
            seen.add(r)
            assert wds == rows[r]
            assert ents[0] == int(lin.scale_exp[r]) & 0xFF
            if bias:  # two's complement int32 from the two 16-bit halves
                b = ents[1] | ents[2] << 16
                assert b - (b >> 31 << 32) == int(lin.bias[r])
            assert [e & 3 for e in ents[lead:]] == [int(z) for z in lin.zp[r]]
            assert [e >> 2 for e in ents[lead:]] == [int(m) for m in lin.scale_mant[r]]
    assert seen == set(range(n))


def test_int8_stream_reads_back_as_the_layer():
    rng = np.random.default_rng(7)
    n, k, lanes = 200, 96, 4
    case = random_int8_case(rng, n, k, 1)
    per = tiling.ceil_div(n, 3)
    split = tiling.RowSplit(per, tiling.ceil_div(n, per), tiling.ceil_div(per, lanes), lanes)
    layout = tiling.stream_layout(n, k, k, "int8", split, 2)
    for c, words in enumerate(ap.int8_stream_image(case.w_q, case.mult, case.exp, layout)):
        for p, lane, wds, ents in decode(layout, words):
            r = c * per + p * lanes + lane
            if p * lanes + lane >= per or r >= n:
                continue
            assert wds == ap.int8_row_words(case.w_q[r])
            assert ents == [int(case.exp[r]) | int(case.mult[r]) << 8]


def test_stream_bytes_beat_the_word_aligned_layout():
    """A K = 4096, G = 128 W2 layer on 32 channels x 22 lanes: the metadata entry stream
    (33 entries of 18 bits per row, 14 per word) instead of 3 word-aligned words per row."""
    n, k = 4096, 4096
    split = tiling.RowSplit(128, 32, 6, 22)
    layout = tiling.stream_layout(n, k, 128, "w2", split, 2)
    stream = layout.beats * 2 * 32 * 32
    old = n * (ct.words_per_row(k) + tiling.w2_meta_words_per_row(k, 128)) * 32
    assert stream < old
    assert layout.meta_words(0) + layout.meta_words(1) == 5  # 66 entries in 5 words per lane


def test_descriptor_refuses_what_the_unit_cannot_run():
    split = tiling.RowSplit(32, 2, 8, 4)
    layout = tiling.stream_layout(64, 4096, 32, "w2", split, 1)
    kw = dict(x_base=0, y_base=0, n=64, k=4096, group=32, mac_blocks=4, max_tokens=4)
    with pytest.raises(ap.EncodingError, match="exceeds the lane metadata FIFO"):
        ap.stream_linear_descriptor(layout, tokens=1, meta_fifo_words=8, **kw)
    with pytest.raises(ap.EncodingError, match="GEMM tile holds 1..4"):
        ap.stream_linear_descriptor(layout, tokens=5, meta_fifo_words=16, **kw)
    with pytest.raises(ValueError, match="cannot take 2 words per beat"):
        tiling.stream_layout(64, 128, 32, "w2", tiling.RowSplit(32, 2, 32, 1), 2)


@pytest.mark.parametrize("target", ["sim", "u280"])
@pytest.mark.parametrize(
    "n, k, group, precision",
    [
        (64, 64, 64, "w2"),
        (200, 96, 32, "w2"),
        (4096, 4096, 128, "w2"),
        (11008, 4096, 128, "w2"),
        (32000, 4096, 4096, "int8"),
    ],
)
def test_linear_stream_layout_is_the_lowering_split(target, n, k, group, precision):
    """An accel.linear keeps only rows_per_channel; the verifier, the fetch programs and the
    descriptors rebuild the layout from it and the engine (`linear_stream_layout`), which must
    be the layout lower-to-accel sized the regions with (`split_rows` on the engine)."""
    e = derive_engine(load_target(target))
    split = tiling.split_rows(n, e)
    assert split.channels_used <= e.weight_channels and split.lanes == e.lanes_per_channel
    layout = tiling.stream_layout(n, k, group, precision, split, e.words_per_beat)
    rebuilt = tiling.linear_stream_layout(
        n, k, group, precision, split.rows_per_channel, e.lanes_per_channel, e.words_per_beat
    )
    assert rebuilt == layout
    assert layout.beats * layout.words_per_beat >= layout.words


def test_bias_and_padding_in_the_descriptor():
    """A biased layout sets the descriptor's bias bit; a zero-padded K (input_k) its k_pad; an
    int8 k of part of a word runs over whole words; an input_k outside k's last word is refused;
    a layer's bias must match its layout's."""
    split = tiling.RowSplit(32, 2, 8, 4)
    kw = dict(x_base=0, y_base=64, n=64, tokens=1, mac_blocks=4, max_tokens=4, meta_fifo_words=8)
    biased = tiling.stream_layout(64, 96, 32, "w2", split, 1, bias=True)
    d = ap.stream_linear_descriptor(biased, k=96, group=32, input_k=80, **kw)
    assert (d.bias, d.k, d.k_pad, d.entries_per_row) == (1, 96, 16, 1 + 2 + 3)
    i8 = tiling.stream_layout(64, 80, 80, "int8", split, 1)
    d = ap.stream_linear_descriptor(i8, k=80, group=80, **kw)
    assert (d.bias, d.k, d.k_pad) == (0, 96, 16)
    with pytest.raises(ap.EncodingError, match="input K 64 must lie in the last activation word"):
        ap.stream_linear_descriptor(biased, k=96, group=32, input_k=64, **kw)
    with pytest.raises(ValueError, match="only a W2 linear carries a bias"):
        tiling.stream_layout(64, 80, 80, "int8", split, 1, bias=True)
    lin = random_layer(np.random.default_rng(1), 64, 96, 32)
    with pytest.raises(ap.EncodingError, match="layout carries bias, the layer has none"):
        ap.w2_stream_image(lin, biased)
