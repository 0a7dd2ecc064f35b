"""Tiling arithmetic of the engine: the one place that says how a layer maps onto it.

Sizes of the HBM images (packed weights from the contract's `words_per_row`, per-row metadata,
int8 rows, the KV4 cache) and the split of a linear layer's output rows over the weight
channels.  Everything is in 256-bit stream words (`WORD_BYTES` bytes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from accllm.backend.target_desc import EngineConfig
from accllm.numerics.contract import NUMERICS, words_per_row

# The word arithmetic the IR's verifiers share (one definition, in numerics/words.py), re-exported:
# callers size everything as `tiling.<name>`.
from accllm.numerics.words import META_EXP_BITS as META_EXP_BITS
from accllm.numerics.words import META_GROUP_BITS as META_GROUP_BITS
from accllm.numerics.words import WORD_BITS as WORD_BITS
from accllm.numerics.words import WORD_BYTES as WORD_BYTES
from accllm.numerics.words import act_row_words as act_row_words
from accllm.numerics.words import act_words as act_words
from accllm.numerics.words import ceil_div as ceil_div
from accllm.numerics.words import w2_meta_words_per_row as w2_meta_words_per_row
from accllm.numerics.words import w2_weight_words as w2_weight_words
from accllm.numerics.words import words_of as words_of

# KV4 per (token, head): head_dim 4-bit codes (contract kv4_pack), zero point and exponent bytes.
KV_SCALE_BYTES = 2


def int8_words_per_row(k: int) -> int:
    """Words per row of an int8 matrix (the LM head, the embedding table): 32 codes per word."""
    return ceil_div(k, WORD_BYTES)


def int8_meta_words(n: int) -> int:
    """Words of per-row (16-bit mantissa, 8-bit exponent) pairs, one 32-bit slot per row (the
    previous engine's int8 metadata, kept for bench/stream_linear_7b's comparison)."""
    return ceil_div(n * 4, WORD_BYTES)


@dataclass(frozen=True)
class RowSplit:
    """Output rows of a linear layer over the weight channels: channel c holds rows
    [c * rows_per_channel, ...) (the last channel may hold fewer); each channel's `lanes` lanes
    take `lanes` consecutive rows per pass, `passes` passes in all (the channel's stream:
    `StreamLayout`)."""

    rows_per_channel: int
    channels_used: int
    passes: int
    lanes: int


def split_per_channel(n: int, rows_per_channel: int, lanes: int) -> RowSplit:
    """The split of n rows at `rows_per_channel` per channel on `lanes` lanes per channel."""
    return RowSplit(
        rows_per_channel, ceil_div(n, rows_per_channel), ceil_div(rows_per_channel, lanes), lanes
    )


def split_rows(n: int, engine: EngineConfig) -> RowSplit:
    """Spread n output rows evenly over the weight channels (GEMV is bandwidth bound, so every
    channel should stream the same number of words)."""
    return split_per_channel(n, ceil_div(n, engine.weight_channels), engine.lanes_per_channel)


# --------------------------------------------------------------------------------------------
# Stream layout of a linear on the stream-fed MAC unit (rtl_lib/stream_linear_unit.sv)
# --------------------------------------------------------------------------------------------

# Metadata entries of the stream unit, packed per lane across its rows, LSB-first in 256-bit
# words: W2 18-bit entries (row exponent, then per group zero point + mantissa), 14 per word;
# int8 24-bit entries (exponent byte, 16-bit mantissa M), 10 per word.
STREAM_ENTRY_BITS = {"w2": META_GROUP_BITS, "int8": META_EXP_BITS + NUMERICS.mult_bits}
STREAM_ENTRIES_PER_WORD = {p: WORD_BITS // b for p, b in STREAM_ENTRY_BITS.items()}
# A biased W2 row (Qwen2's q/k/v) has two more entries after its exponent: the Q15.16 bias's
# low and high 16 bits (contract.quantize_bias), so the bias travels in the weights' stream.
STREAM_BIAS_ENTRIES = 2


def stream_entries_per_row(k: int, group: int, precision: str, bias: bool = False) -> int:
    """Metadata entries of one output row: W2 the exponent (+ the bias's 2) + one per group;
    int8 one."""
    if precision != "w2":
        return 1
    return 1 + (STREAM_BIAS_ENTRIES if bias else 0) + k // group


def stream_k(k: int) -> int:
    """The inputs stream_linear_unit runs a row over: k rounded up to whole A8 activation words
    (an int8 row is zero-padded to its words; a W2 K is a multiple of 32 already, `padded_k`)."""
    return act_row_words(k, 8) * WORD_BYTES


def stream_words_per_row(k: int, precision: str) -> int:
    """Weight words of one output row (contract pack_2_4_w2 rows, or int8 rows of 32)."""
    return words_per_row(k) if precision == "w2" else int8_words_per_row(k)


@dataclass(frozen=True)
class StreamLayout:
    """What one weight channel streams for a linear on the stream unit: pass by pass, the
    pass's metadata words (`meta_words(p)` per lane, lane-interleaved), then its weight words
    (word w of lane l at w * lanes_in_pass(p) + l).  A pass streams `lanes_in_pass(p)` lanes:
    every lane, or in the last pass the row slots left (at least `words_per_beat`, so the words
    of one beat go to distinct lanes; the extra slots are zero rows).  Each lane's metadata is
    one entry stream over its rows, `entries_per_word` entries per word, so a pass's share is
    whole words only on average.  The channel's words are padded to whole DW beats."""

    split: RowSplit
    precision: str
    words_per_row: int
    entries_per_row: int
    words_per_beat: int
    bias: bool = False  # W2 rows carry their bias entries (STREAM_BIAS_ENTRIES)

    @property
    def lead_entries(self) -> int:
        """Entries the unit reads one per cycle before a row's first beat (exponent, bias)."""
        return 1 + (STREAM_BIAS_ENTRIES if self.bias else 0)

    @property
    def entries_per_word(self) -> int:
        return STREAM_ENTRIES_PER_WORD[self.precision]

    def lanes_in_pass(self, p: int) -> int:
        left = self.split.rows_per_channel - p * self.split.lanes
        return min(self.split.lanes, max(left, self.words_per_beat))

    def lane_meta_words(self, passes: int) -> int:
        """Metadata words of one lane that has run `passes` rows."""
        return ceil_div(passes * self.entries_per_row, self.entries_per_word)

    def meta_words(self, p: int) -> int:
        """Metadata words per lane streamed in pass p."""
        return self.lane_meta_words(p + 1) - self.lane_meta_words(p)

    def pass_words(self, p: int) -> int:
        return self.lanes_in_pass(p) * (self.meta_words(p) + self.words_per_row)

    @functools.cached_property
    def words(self) -> int:
        """Stream words of one channel (before the padding to a whole beat).  Cached: the
        estimator asks a layout for it once per GEMM tile of every program it prices."""
        return sum(self.pass_words(p) for p in range(self.split.passes))

    @functools.cached_property
    def beats(self) -> int:
        return ceil_div(self.words, self.words_per_beat)

    @property
    def max_meta_words(self) -> int:
        """The most metadata words a lane's FIFO must hold: a pass's share + a partial word."""
        return ceil_div(self.entries_per_row, self.entries_per_word) + 1


def stream_layout(
    n: int,
    k: int,
    group: int,
    precision: str,
    split: RowSplit,
    words_per_beat: int,
    bias: bool = False,
) -> StreamLayout:
    """The per-channel stream of an [n, k] linear (`precision` "w2" or "int8") split by
    `split` (`split_rows`) on a unit taking `words_per_beat` stream words per beat; `bias`: a
    W2 linear whose rows carry their bias."""
    if precision not in STREAM_ENTRY_BITS:
        raise ValueError(f"unknown linear precision {precision!r}")
    if bias and precision != "w2":
        raise ValueError("only a W2 linear carries a bias in its stream")
    if split.lanes < words_per_beat:
        raise ValueError(f"{split.lanes} lanes cannot take {words_per_beat} words per beat")
    return StreamLayout(
        split,
        precision,
        stream_words_per_row(k, precision),
        stream_entries_per_row(k, group, precision, bias),
        words_per_beat,
        bias,
    )


def linear_stream_layout(
    n: int,
    k: int,
    group: int,
    precision: str,
    rows_per_channel: int,
    lanes: int,
    wpb: int,
    bias: bool = False,
) -> StreamLayout:
    """The stream layout of an [n, k] linear whose rows are split `rows_per_channel` per channel
    (the `accel.linear` property) on a unit of `lanes` lanes and `wpb` words per beat."""
    split = split_per_channel(n, rows_per_channel, lanes)
    return stream_layout(n, k, group, precision, split, wpb, bias)


def linear_tiles(tokens: int, tile_tokens: int) -> list[tuple[int, int]]:
    """(first token, tokens) of each GEMM tile of a linear over `tokens` tokens: the stream unit
    runs at most `tile_tokens` (a divisor of 32, so a tile's exponent bytes share a word) at a
    time, streaming the weights once per tile."""
    if tile_tokens < 1 or 32 % tile_tokens:
        raise ValueError(f"tile_tokens must divide 32, got {tile_tokens}")
    return [(t, min(tile_tokens, tokens - t)) for t in range(0, tokens, tile_tokens)]


# ---- the Λ KV cache in HBM (stream_attention_unit) -------------------------------------------
# Per (layer, KV head), on channel kv_channel(head): one ring of four regions, each aligned to
# KV_REGION_ALIGN bytes (the widest beat, u280's 512 bits, so every region starts on a beat):
# K codes (S + W slots of head_dim / 2 bytes, contract kv4_pack), K scales (2 bytes per slot,
# dense: zero point, then the exponent as a signed byte), V codes, V scales. Slot s holds the
# token at a position p with contract.lambda_slot(p) == s.
KV_REGION_ALIGN = 64


def kv_channel(head: int, channels: int) -> int:
    """HBM channel of KV head `head` (and of the stream_attention_unit pipeline that reads it)."""
    return head % channels


@dataclass(frozen=True)
class KVRing:
    """Byte offsets of a KV head's ring regions (from the ring's base) and the ring's size."""

    slots: int
    code_bytes: int  # per slot (head_dim / 2)
    k_codes: int
    k_scales: int
    v_codes: int
    v_scales: int
    ring_bytes: int


def kv_ring(head_dim: int, sink: int, window: int) -> KVRing:
    """The ring of one (layer, KV head) (stream_attention_unit's RING localparams)."""
    slots = sink + window
    code_bytes = head_dim // 2
    codes = ceil_div(slots * code_bytes, KV_REGION_ALIGN) * KV_REGION_ALIGN
    scales = ceil_div(slots * KV_SCALE_BYTES, KV_REGION_ALIGN) * KV_REGION_ALIGN
    return KVRing(
        slots, code_bytes, 0, codes, codes + scales, 2 * codes + scales, 2 * (codes + scales)
    )


def kv_rings_per_layer(kv_heads: int, channels: int) -> int:
    """Rings one layer puts on each channel (KV heads h, h + channels, ... share a channel)."""
    return ceil_div(kv_heads, channels)


def kv_layer_addr(base: int, layer: int, kv_heads: int, channels: int, ring: KVRing) -> int:
    """Byte address (on every KV channel) of a layer's first ring: the descriptor's kv_addr.
    Layers follow each other from `base`."""
    return base + layer * kv_rings_per_layer(kv_heads, channels) * ring.ring_bytes


def kv_head_addr(layer_addr: int, head: int, channels: int, ring: KVRing) -> int:
    """Byte address of KV head `head`'s ring on its channel."""
    return layer_addr + (head // channels) * ring.ring_bytes


def kv_stream_rings(
    layer_addr: int, kv_heads: int, tokens: int, channel: int, channels: int, ring: KVRing
) -> list[tuple[int, int, int]]:
    """What stream_attention_unit's pipeline `channel` consumes for one command of `tokens` new
    tokens, in order, as RING entries (addr, slot_bytes, capacity) of the fetch program (each
    read for min(pos, capacity) slots): per token, per KV head on the channel, the K scales,
    K codes, V scales, V codes (scales first: they are needed before the codes they scale)."""
    out = []
    for _ in range(tokens):
        for head in range(channel, kv_heads, channels):
            a = kv_head_addr(layer_addr, head, channels, ring)
            out += [
                (a + ring.k_scales, KV_SCALE_BYTES, ring.slots),
                (a + ring.k_codes, ring.code_bytes, ring.slots),
                (a + ring.v_scales, KV_SCALE_BYTES, ring.slots),
                (a + ring.v_codes, ring.code_bytes, ring.slots),
            ]
    return out
