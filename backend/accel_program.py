"""Binary forms of the accel level: MAC-unit descriptors and the HBM images of linear layers.

One definition, read by the netlist emitter (`passes/accel_to_hw.py`) and by the simulation
harnesses; the RTL (`rtl_lib/linear_unit.sv`) slices the same fields.

* `LinearDescriptor`: one 256-bit word per `accel.linear`, held in the descriptor ROM; the
  sequencer's DISPATCH to the `mac` unit carries its index (docs/isa.md: payload meaning is the
  unit's).
* `w2_weight_image` / `w2_meta_image`: the words a W2 layer occupies in its weight regions
  (lane-interleaved rows, `tiling.RowSplit`) and in its metadata region (records ordered pass,
  channel, lane).
* `int8_descriptor` / `int8_weight_image` / `int8_meta_image`: the same for an int8 linear (the
  LM head, `contract.linear_int8`): rows of 32 int8 weights per word in the same tile layout,
  metadata one 32-bit slot (exponent byte, 16-bit mantissa) per row slot, each pass's slots
  (channel, lane order) padded to a word (`tiling.int8_meta_words_per_pass`).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

from accllm.backend import tiling
from accllm.numerics import contract as ct

# (field, bits), least significant first: the layout `linear_unit.sv` unpacks.
LINEAR_FIELDS: tuple[tuple[str, int], ...] = (
    ("w_base", 32),  # word address of the layer's weight tile, the same on every weight channel
    ("meta_base", 32),  # word address of the metadata records on the misc channel
    ("x_base", 24),  # activation-buffer word of token 0's A8 row
    ("fx_base", 24),  # activation-buffer word of the per-token exponents
    ("y_base", 24),  # activation-buffer word of token 0's Q15.16 output row
    ("k", 20),
    ("rows_per_channel", 20),
    ("n", 20),
    ("meta_words", 12),  # words per metadata record
    ("tokens", 16),
    ("group_beats", 15),  # MAC beats per W2 group: G / (4 * mac_blocks); 0 for int8
    ("int8", 1),  # 1: int8 datapath (contract linear_int8), 0: W2 (linear_w2a8)
    ("words_per_row", 16),
)
assert sum(b for _, b in LINEAR_FIELDS) == ct.NUMERICS.word_bits


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


@dataclass(frozen=True)
class LinearDescriptor:
    w_base: int
    meta_base: int
    x_base: int
    fx_base: int
    y_base: int
    k: int
    rows_per_channel: int
    n: int
    meta_words: int  # W2: words per record; int8: words per pass
    tokens: int
    group_beats: int
    int8: int
    words_per_row: int

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(LINEAR_FIELDS, astuple(self))


assert [f.name for f in fields(LinearDescriptor)] == [n for n, _ in LINEAR_FIELDS]


def linear_descriptor(
    *,
    w_base_bytes: int,
    meta_base_bytes: int,
    x_base: int,
    y_base: int,
    n: int,
    k: int,
    group: int,
    tokens: int,
    split: tiling.RowSplit,
    mac_blocks: int,
) -> LinearDescriptor:
    """The descriptor of a W2 linear with the given HBM byte offsets and activation-buffer words
    (x_base: the A8 input laid out by `tiling.act_words`; y_base: the int32 output)."""
    if k % 32 or n % 8:
        raise EncodingError(f"the MAC unit needs k % 32 == 0 and n % 8 == 0, got n={n}, k={k}")
    if group % (4 * mac_blocks):
        raise EncodingError(f"group {group} is not a whole number of {mac_blocks}-block beats")
    wb = tiling.WORD_BITS // 8
    return LinearDescriptor(
        w_base=w_base_bytes // wb,
        meta_base=meta_base_bytes // wb,
        x_base=x_base,
        fx_base=x_base + tokens * tiling.act_row_words(k, 8),
        y_base=y_base,
        k=k,
        rows_per_channel=split.rows_per_channel,
        n=n,
        meta_words=tiling.w2_meta_words_per_row(k, group),
        tokens=tokens,
        group_beats=group // (4 * mac_blocks),
        int8=0,
        words_per_row=ct.words_per_row(k),
    )


def int8_descriptor(
    *,
    w_base_bytes: int,
    meta_base_bytes: int,
    x_base: int,
    y_base: int,
    n: int,
    k: int,
    tokens: int,
    split: tiling.RowSplit,
) -> LinearDescriptor:
    """The descriptor of an int8 linear (the LM head) with the given HBM byte offsets and
    activation-buffer words (A8 input as `tiling.act_words` lays it out; int32 output)."""
    if k % 32 or n % 8:
        raise EncodingError(f"the MAC unit needs k % 32 == 0 and n % 8 == 0, got n={n}, k={k}")
    wb = tiling.WORD_BITS // 8
    return LinearDescriptor(
        w_base=w_base_bytes // wb,
        meta_base=meta_base_bytes // wb,
        x_base=x_base,
        fx_base=x_base + tokens * tiling.act_row_words(k, 8),
        y_base=y_base,
        k=k,
        rows_per_channel=split.rows_per_channel,
        n=n,
        meta_words=tiling.int8_meta_words_per_pass(split),
        tokens=tokens,
        group_beats=0,
        int8=1,
        words_per_row=tiling.int8_words_per_row(k),
    )


def _row_slot(split: tiling.RowSplit, c: int, slot: int) -> int:
    """Layer row held by row slot `slot` of channel c, or -1 for padding."""
    row = c * split.rows_per_channel + slot
    return row if slot < split.rows_per_channel else -1


def w2_weight_image(lin: ct.W2Linear, split: tiling.RowSplit) -> list[list[int]]:
    """Per weight channel, the words of the layer's tile: pass, word, lane order; padding rows
    (past the channel's rows or the layer's end) are zero words."""
    rows = ct.words_to_ints(lin.packed)  # [N][words_per_row] ints
    wpr = ct.words_per_row(lin.in_features)
    out = []
    for c in range(split.channels_used):
        words = []
        for p in range(split.passes):
            for w in range(wpr):
                for lane in range(split.lanes):
                    r = _row_slot(split, c, p * split.lanes + lane)
                    words.append(rows[r][w] if 0 <= r < lin.out_features else 0)
        out.append(words)
    return out


def w2_meta_record(zp, mant, exp: int, words: int) -> list[int]:
    """One row's metadata record: exponent byte, then (zero point, mantissa) per group."""
    bits, shift = int(exp), tiling.META_EXP_BITS
    for z, m in zip(zp, mant, strict=True):
        bits |= (int(z) | int(m) << ct.NUMERICS.w_bits) << shift
        shift += tiling.META_GROUP_BITS
    mask = (1 << tiling.WORD_BITS) - 1
    return [(bits >> (tiling.WORD_BITS * i)) & mask for i in range(words)]


def w2_meta_image(
    lin: ct.W2Linear, split: tiling.RowSplit, channels: int | None = None
) -> list[int]:
    """The layer's metadata region: records ordered pass, channel, lane (zero for padding).

    `channels`: the MAC unit's weight channels (linear_unit CH, default the split's channels
    in use). The unit loads CH x LANES records per pass whatever the layer uses, so a layer on
    fewer channels than CH (few rows on a wide target) needs zero records for the idle
    channels, or the next pass's records would be read one pass early."""
    channels = split.channels_used if channels is None else channels
    if channels < split.channels_used:
        raise EncodingError(f"{split.channels_used} channels in use, the unit has {channels}")
    mw = tiling.w2_meta_words_per_row(lin.in_features, lin.group)
    zp, mant, exp = (np.asarray(a, dtype=np.int64) for a in (lin.zp, lin.scale_mant, lin.scale_exp))
    out: list[int] = []
    for p in range(split.passes):
        for c in range(channels):
            for lane in range(split.lanes):
                r = _row_slot(split, c, p * split.lanes + lane)
                if c < split.channels_used and 0 <= r < lin.out_features:
                    out += w2_meta_record(zp[r], mant[r], int(exp[r]), mw)
                else:
                    out += [0] * mw
    return out


def meta_region_words(
    n: int, k: int, group: int, split: tiling.RowSplit, channels: int | None = None
) -> int:
    """Words of a layer's metadata region in the `w2_meta_image` layout (`channels` as there)."""
    channels = split.channels_used if channels is None else channels
    return split.passes * channels * split.lanes * tiling.w2_meta_words_per_row(k, group)


def int8_row_words(row) -> list[int]:
    """One int8 row as 256-bit words: byte i of word w = weight 32 w + i (two's complement),
    the row zero-padded to a word."""
    b = (np.asarray(row, dtype=np.int64) & 0xFF).astype(np.uint8).tobytes()
    b += bytes(-len(b) % tiling.WORD_BYTES)
    return [int.from_bytes(b[i : i + tiling.WORD_BYTES], "little") for i in range(0, len(b), 32)]


def int8_weight_image(w_q, split: tiling.RowSplit) -> list[list[int]]:
    """Per weight channel, the words of an int8 [N, K] matrix's tile in the `w2_weight_image`
    order (pass, word, lane); padding rows are zero words."""
    w_q = np.asarray(w_q, dtype=np.int64)
    n, k = w_q.shape
    if np.any(np.abs(w_q) > ct.NUMERICS.act_qmax):
        raise EncodingError("int8 weights must lie in [-127, 127] (contract quantize_int8_rows)")
    rows = [int8_row_words(r) for r in w_q]
    wpr = tiling.int8_words_per_row(k)
    out = []
    for c in range(split.channels_used):
        words = []
        for p in range(split.passes):
            for w in range(wpr):
                for lane in range(split.lanes):
                    r = _row_slot(split, c, p * split.lanes + lane)
                    words.append(rows[r][w] if 0 <= r < n else 0)
        out.append(words)
    return out


def int8_meta_slot(mult: int, exp: int) -> int:
    """One row's 32-bit metadata slot: exponent byte, then the 16-bit mantissa."""
    mb = ct.NUMERICS.mult_bits
    if not (0 <= mult < 1 << mb and ct.NUMERICS.scale_exp_min <= exp <= ct.NUMERICS.shift_max):
        raise EncodingError(f"int8 row scale M={mult}, e={exp} out of range")
    return int(exp) | int(mult) << tiling.META_EXP_BITS


def int8_meta_image(mult, exp, split: tiling.RowSplit) -> list[int]:
    """An int8 linear's metadata region: per pass, the slots of its row slots ordered channel,
    lane (zero for padding), padded to `tiling.int8_meta_words_per_pass` words."""
    mult, exp = np.asarray(mult, dtype=np.int64), np.asarray(exp, dtype=np.int64)
    n = len(mult)
    per = tiling.int8_meta_words_per_pass(split)
    slot_bits = 8 * tiling.INT8_SLOT_BYTES
    mask = (1 << tiling.WORD_BITS) - 1
    out: list[int] = []
    for p in range(split.passes):
        bits = 0
        for c in range(split.channels_used):
            for lane in range(split.lanes):
                r = _row_slot(split, c, p * split.lanes + lane)
                if 0 <= r < n:
                    slot = int8_meta_slot(int(mult[r]), int(exp[r]))
                    bits |= slot << (slot_bits * (c * split.lanes + lane))
        out += [(bits >> (tiling.WORD_BITS * i)) & mask for i in range(per)]
    return out


# --------------------------------------------------------------------------------------------
# The stream-fed MAC unit (rtl_lib/stream_linear_unit.sv): descriptor and per-channel streams
# --------------------------------------------------------------------------------------------

# (field, bits), least significant first: the layout `stream_linear_unit.sv` unpacks.  No HBM
# addresses: the weights arrive in the channel streams of the fetch program.
STREAM_LINEAR_FIELDS: tuple[tuple[str, int], ...] = (
    ("x_base", 24),  # activation-buffer word of token 0's A8 row
    ("fx_base", 24),  # activation-buffer word of the per-token exponents
    ("y_base", 24),  # activation-buffer word of token 0's Q15.16 output row
    ("k", 20),
    ("rows_per_channel", 20),
    ("n", 20),
    ("tokens", 16),  # the GEMM tile's tokens (<= the unit's TOK)
    ("group_beats", 15),  # MAC beats per W2 group: G / (4 * mac_blocks); 0 for int8
    ("int8", 1),
    ("words_per_row", 16),
    ("entries_per_row", 12),  # metadata entries per row (tiling.stream_entries_per_row)
    ("passes", 16),
    ("channels_used", 8),
    ("fx_byte", 5),  # byte of the exponent word holding the tile's first token's exponent
)
STREAM_LINEAR_BITS = sum(b for _, b in STREAM_LINEAR_FIELDS)
assert STREAM_LINEAR_BITS <= ct.NUMERICS.word_bits


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
) -> StreamLinearDescriptor:
    """The descriptor of a linear laid out by `layout` (activation-buffer words as
    `tiling.act_words` lays them out); EncodingError names what the unit cannot run: k or n
    not whole words, a group not a whole number of beats, more tokens than the unit's tile
    (`max_tokens`), or a pass's metadata larger than the lane FIFO (`meta_fifo_words`).

    A GEMM tile of a longer activation: `tokens` tokens from `first_token` of an activation of
    `total_tokens` rows at x_base / y_base (its exponent bytes after all `total_tokens` rows);
    the tile must not straddle an exponent word."""
    if k % 32 or n % 8:
        raise EncodingError(f"the MAC unit needs k % 32 == 0 and n % 8 == 0, got n={n}, k={k}")
    w2 = layout.precision == "w2"
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
        k=k,
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


def w2_stream_image(lin: ct.W2Linear, layout: tiling.StreamLayout) -> list[list[int]]:
    """Per weight channel, the stream words of a W2 layer (contract pack_2_4_w2 rows; entries:
    the exponent, then per group zero point | mantissa << 2)."""
    rows = ct.words_to_ints(lin.packed)
    zp, mant = np.asarray(lin.zp, dtype=np.int64), np.asarray(lin.scale_mant, dtype=np.int64)
    exp = np.asarray(lin.scale_exp, dtype=np.int64)
    wb = ct.NUMERICS.w_bits

    def entries(r: int) -> list[int]:
        groups = zip(zp[r], mant[r], strict=True)
        return [int(exp[r]) & 0xFF] + [int(z) | int(m) << wb for z, m in groups]

    return _stream_image(layout, lin.out_features, lambda r: rows[r], entries)


def int8_stream_image(w_q, mult, exp, layout: tiling.StreamLayout) -> list[list[int]]:
    """Per weight channel, the stream words of an int8 layer (the LM head): rows of 32 int8
    weights per word, one entry per row (exponent byte, 16-bit mantissa M above it)."""
    w_q = np.asarray(w_q, dtype=np.int64)
    if np.any(np.abs(w_q) > ct.NUMERICS.act_qmax):
        raise EncodingError("int8 weights must lie in [-127, 127] (contract quantize_int8_rows)")
    mult, exp = np.asarray(mult, dtype=np.int64), np.asarray(exp, dtype=np.int64)
    return _stream_image(
        layout,
        w_q.shape[0],
        lambda r: int8_row_words(w_q[r]),
        lambda r: [int8_meta_slot(int(mult[r]), int(exp[r]))],
    )
