"""Sizes of the contract's packed data in 256-bit stream words: the one definition of the word.

Every memory of the engine (HBM channels, activation buffer, descriptor ROM) is addressed in
stream words of `NUMERICS.word_bits`.  The IR's verifiers (dialects/accel.py: is a region or
buffer big enough?) and the backend (backend/tiling.py: where does each layer go?) size data
with these functions, so they live below both; `backend.tiling` re-exports them beside the
layout arithmetic that needs an engine configuration.
"""

from __future__ import annotations

from accllm.numerics.contract import NUMERICS, words_per_row

WORD_BITS = NUMERICS.word_bits
WORD_BYTES = WORD_BITS // 8  # packed weight stream word (contract pack_2_4_w2)
# Per-row metadata of a W2 layer: the row's scale exponent (8 bits), then per group its zero
# point (2 bits) and scale mantissa (16 bits), LSB-first, the row padded to a word boundary.
META_EXP_BITS = 8
META_GROUP_BITS = NUMERICS.w_bits + NUMERICS.scale_mant_bits


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def words_of(nbytes: int) -> int:
    return ceil_div(nbytes, WORD_BYTES)


def w2_weight_words(n: int, k: int) -> int:
    """Stream words of an [n, k] 2:4 W2 matrix (contract pack_2_4_w2: rows word-aligned)."""
    return n * words_per_row(k)


def w2_meta_words_per_row(k: int, group: int) -> int:
    """Metadata words per output row: exponent + (zero point, mantissa) per group."""
    return ceil_div(META_EXP_BITS + (k // group) * META_GROUP_BITS, WORD_BITS)


def act_row_words(length: int, bits: int) -> int:
    """Activation-buffer words of one token row: `length` elements of `bits` (8 or 32)."""
    return words_of(length * bits // 8)


def act_words(tokens: int, length: int, bits: int, per_token: bool) -> int:
    """Activation-buffer words of a [tokens, length] activation: the token rows, then (A8,
    per-token exponent) one signed exponent byte per token, packed 32 to a word."""
    return tokens * act_row_words(length, bits) + (words_of(tokens) if per_token else 0)
