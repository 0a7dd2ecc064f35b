"""Binary forms of the accel level for the stream-fed MAC unit: descriptors and channel streams.

One definition, read by the netlist emitter (`passes/accel_to_hw.py`), the HBM image writer
(`backend/sim/hbm_image.py`) and the simulation harnesses; `rtl_lib/stream_linear_unit.sv`
slices the same fields.

* `StreamLinearDescriptor`: one 256-bit word per GEMM tile of an `accel.linear`, held in the
  descriptor ROM; the sequencer's DISPATCH to the `mac` unit carries its index (docs/isa.md:
  payload meaning is the unit's).
* `w2_stream_image` / `int8_stream_image`: per weight channel, the words of the layer's stream
  (`tiling.StreamLayout`: per pass the lanes' metadata entries, then their weight words).
* `pack_fields`: the descriptor word of any unit from its (field, bits) table.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

from accllm.backend import tiling
from accllm.numerics import contract as ct
from accllm.rtl_lib.descriptors import STREAM_LINEAR_FIELDS


class EncodingError(ValueError):
    """A layer the MAC unit's descriptor or layouts cannot express."""


def pack_fields(table: tuple[tuple[str, int], ...], values: tuple[int, ...]) -> int:
    """One descriptor word from (field, bits) `table`, least significant first; raises
    EncodingError naming a field that does not fit (every unit's descriptors use this)."""
    word, shift = 0, 0
    for (name, bits), value in zip(table, values, strict=True):
        if not 0 <= value < 1 << bits:
            raise EncodingError(f"descriptor field {name}={value} does not fit {bits} bits")
        word |= value << shift
        shift += bits
    return word


def _row_slot(split: tiling.RowSplit, c: int, slot: int) -> int:
    """Layer row held by row slot `slot` of channel c, or -1 for padding."""
    row = c * split.rows_per_channel + slot
    return row if slot < split.rows_per_channel else -1


def int8_row_words(row) -> list[int]:
    """One int8 row as 256-bit words: byte i of word w = weight 32 w + i (two's complement),
    the row zero-padded to a word."""
    b = (np.asarray(row, dtype=np.int64) & 0xFF).astype(np.uint8).tobytes()
    b += bytes(-len(b) % tiling.WORD_BYTES)
    return [int.from_bytes(b[i : i + tiling.WORD_BYTES], "little") for i in range(0, len(b), 32)]


def int8_meta_slot(mult: int, exp: int) -> int:
    """One row's 32-bit metadata slot: exponent byte, then the 16-bit mantissa."""
    mb = ct.NUMERICS.mult_bits
    if not (0 <= mult < 1 << mb and ct.NUMERICS.scale_exp_min <= exp <= ct.NUMERICS.shift_max):
        raise EncodingError(f"int8 row scale M={mult}, e={exp} out of range")
    return int(exp) | int(mult) << tiling.META_EXP_BITS


# --------------------------------------------------------------------------------------------
# The stream-fed MAC unit (rtl_lib/stream_linear_unit.sv): descriptor and per-channel streams
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamLinearDescriptor:
    x_base: int
    fx_base: int
    y_base: int
    k: int
    rows_per_channel: int
    n: int
    tokens: int
    group_beats: int
    int8: int
    words_per_row: int
    entries_per_row: int
    passes: int
    channels_used: int
    fx_byte: int = 0
    bias: int = 0
    k_pad: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(STREAM_LINEAR_FIELDS, astuple(self))


assert [f.name for f in fields(StreamLinearDescriptor)] == [n for n, _ in STREAM_LINEAR_FIELDS]


def stream_linear_descriptor(
    layout: tiling.StreamLayout,
    *,
    x_base: int,
    y_base: int,
    n: int,
    k: int,
    group: int,
    tokens: int,
    mac_blocks: int,
    max_tokens: int,
    meta_fifo_words: int,
    first_token: int = 0,
    total_tokens: int | None = None,
    input_k: int | None = None,
) -> StreamLinearDescriptor:
    """The descriptor of a linear laid out by `layout` (activation-buffer words as
    `tiling.act_words` lays them out); EncodingError names what the unit cannot run: k or n
    not whole words, a group not a whole number of beats, more tokens than the unit's tile
    (`max_tokens`), or a pass's metadata larger than the lane FIFO (`meta_fifo_words`).

    A GEMM tile of a longer activation: `tokens` tokens from `first_token` of an activation of
    `total_tokens` rows at x_base / y_base (its exponent bytes after all `total_tokens` rows);
    the tile must not straddle an exponent word.

    `input_k`: the activation rows' K when the weights' k is zero-padded past it (contract
    `padded_k`; default k): the unit reads the row's bytes from input_k on as zeros (`k_pad`),
    whatever the buffer holds there.  An int8 k (the LM head) runs over whole activation words
    (`tiling.stream_k`), its weight rows zero-padded to them."""
    w2 = layout.precision == "w2"
    if (w2 and k % 32) or n % 8:
        raise EncodingError(f"the MAC unit needs k % 32 == 0 (w2) and n % 8 == 0, got n={n}, k={k}")
    in_k = k if input_k is None else input_k
    ks = tiling.stream_k(k)
    if not 0 < in_k <= k or tiling.stream_k(in_k) != ks:
        raise EncodingError(
            f"input K {in_k} must lie in the last activation word of k = {k} (a zero-padded K)"
        )
    if w2 and group % (4 * mac_blocks):
        raise EncodingError(f"group {group} is not a whole number of {mac_blocks}-block beats")
    if not 1 <= tokens <= max_tokens:
        raise EncodingError(f"tokens={tokens}: the unit's GEMM tile holds 1..{max_tokens}")
    if layout.max_meta_words > meta_fifo_words:
        raise EncodingError(
            f"a row's metadata ({layout.entries_per_row} entries, {layout.max_meta_words} "
            f"words) exceeds the lane metadata FIFO ({meta_fifo_words} words)"
        )
    total = tokens if total_tokens is None else total_tokens
    if first_token // 32 != (first_token + tokens - 1) // 32 or first_token + tokens > total:
        raise EncodingError(
            f"tile of tokens {first_token}..{first_token + tokens - 1} of {total}: a tile must "
            "lie within the activation and within one exponent word (32 tokens)"
        )
    split = layout.split
    row8 = tiling.act_row_words(k, 8)
    return StreamLinearDescriptor(
        x_base=x_base + first_token * row8,
        fx_base=x_base + total * row8 + first_token // 32,
        y_base=y_base + first_token * tiling.act_row_words(n, 32),
        k=ks,
        rows_per_channel=split.rows_per_channel,
        n=n,
        tokens=tokens,
        group_beats=group // (4 * mac_blocks) if w2 else 0,
        int8=0 if w2 else 1,
        words_per_row=layout.words_per_row,
        entries_per_row=layout.entries_per_row,
        passes=split.passes,
        channels_used=split.channels_used,
        fx_byte=first_token % 32,
        bias=int(layout.bias),
        k_pad=ks - in_k,
    )


def _entry_words(entries: list[int], bits: int, per_word: int) -> list[int]:
    """A lane's entry stream as words: `per_word` entries of `bits` each, LSB-first."""
    words = []
    for i in range(0, len(entries), per_word):
        w = 0
        for j, e in enumerate(entries[i : i + per_word]):
            w |= e << (bits * j)
        words.append(w)
    return words


def _stream_image(layout: tiling.StreamLayout, n: int, rows_words, row_entries) -> list[list[int]]:
    """Per channel, the words of the layout: `rows_words(r)` the weight words of layer row r,
    `row_entries(r)` its metadata entries (padding rows: zero words, zero entries)."""
    split = layout.split
    bits = tiling.STREAM_ENTRY_BITS[layout.precision]
    epr, epw = layout.entries_per_row, layout.entries_per_word
    zero_w, zero_e = [0] * layout.words_per_row, [0] * epr
    out = []
    for c in range(split.channels_used):

        def row(p: int, lane: int, c=c) -> int:
            r = _row_slot(split, c, p * split.lanes + lane)
            return r if 0 <= r < n else -1

        lane_meta = []
        for lane in range(split.lanes):
            ents = []
            for p in range(split.passes):
                if lane < layout.lanes_in_pass(p):
                    r = row(p, lane)
                    ents += row_entries(r) if r >= 0 else zero_e
            lane_meta.append(_entry_words(ents, bits, epw))
        words = []
        for p in range(split.passes):
            lip = layout.lanes_in_pass(p)
            m0 = layout.lane_meta_words(p)
            for i in range(layout.meta_words(p)):
                words += [lane_meta[lane][m0 + i] for lane in range(lip)]
            rws = [rows_words(r) if (r := row(p, lane)) >= 0 else zero_w for lane in range(lip)]
            for w in range(layout.words_per_row):
                words += [rws[lane][w] for lane in range(lip)]
        assert len(words) == layout.words
        words += [0] * (layout.beats * layout.words_per_beat - len(words))
        out.append(words)
    return out


def bias_entries(bias: int) -> list[int]:
    """A row's bias entries (tiling.STREAM_BIAS_ENTRIES): the int32 Q15.16 bias
    (contract.quantize_bias) as its low, then its high 16 bits (two's complement)."""
    rb = ct.NUMERICS.res_bits
    if not -(1 << (rb - 1)) <= bias < 1 << (rb - 1):
        raise EncodingError(f"bias {bias} is not an int{rb} (contract.quantize_bias)")
    u = bias & ((1 << rb) - 1)
    return [u & 0xFFFF, u >> 16]


def w2_stream_image(lin: ct.W2Linear, layout: tiling.StreamLayout) -> list[list[int]]:
    """Per weight channel, the stream words of a W2 layer (contract pack_2_4_w2 rows; entries:
    the exponent, the bias's two when the layout carries one, then per group zero point |
    mantissa << 2)."""
    if layout.bias != (lin.bias is not None):
        raise EncodingError(
            f"the stream layout {'carries' if layout.bias else 'has no'} bias, the layer "
            f"{'has' if lin.bias is not None else 'has none'}"
        )
    rows = ct.words_to_ints(lin.packed)
    zp, mant = np.asarray(lin.zp, dtype=np.int64), np.asarray(lin.scale_mant, dtype=np.int64)
    exp = np.asarray(lin.scale_exp, dtype=np.int64)
    wb = ct.NUMERICS.w_bits
    bias = None if lin.bias is None else np.asarray(lin.bias, dtype=np.int64)

    def entries(r: int) -> list[int]:
        groups = zip(zp[r], mant[r], strict=True)
        lead = [int(exp[r]) & 0xFF] + ([] if bias is None else bias_entries(int(bias[r])))
        return lead + [int(z) | int(m) << wb for z, m in groups]

    return _stream_image(layout, lin.out_features, lambda r: rows[r], entries)


def int8_stream_image(w_q, mult, exp, layout: tiling.StreamLayout) -> list[list[int]]:
    """Per weight channel, the stream words of an int8 layer (the LM head): rows of 32 int8
    weights per word, one entry per row (exponent byte, 16-bit mantissa M above it)."""
    w_q = np.asarray(w_q)
    if w_q.dtype != np.int8:  # int8 codes stay int8 (an LM head of 32 k rows: 8x less memory)
        w_q = w_q.astype(np.int64)
    if np.any((w_q < -ct.NUMERICS.act_qmax) | (w_q > ct.NUMERICS.act_qmax)):
        raise EncodingError("int8 weights must lie in [-127, 127] (contract quantize_int8_rows)")
    mult, exp = np.asarray(mult, dtype=np.int64), np.asarray(exp, dtype=np.int64)
    return _stream_image(
        layout,
        w_q.shape[0],
        lambda r: int8_row_words(w_q[r]),
        lambda r: [int8_meta_slot(int(mult[r]), int(exp[r]))],
    )
