"""Descriptor words of the engine's units: the one definition of each unit's field layout.

A DISPATCH of the sequencer (rtl_lib/isa.py) hands a unit the index of a 256-bit descriptor in
the descriptor ROM; the unit's RTL (`*_unit.sv`) slices the fields below.  Each table lists
(field, bits), least significant first.  `backend/accel_program*.py` fill and pack them
(`pack_fields`); the IR's bounds (`dialects/limits.py`) are the widths of the fields a value
ends up in, which is why the tables live here, below the dialects, beside the RTL they describe.
"""

from __future__ import annotations

from accllm.numerics import contract as ct

# ---- stream-fed MAC unit (`rtl_lib/stream_linear_unit.sv`, sequencer unit `mac`) -------------

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
    ("bias", 1),  # W2 rows carry a Q15.16 bias (tiling.STREAM_BIAS_ENTRIES after the exponent)
    ("k_pad", 5),  # a row's last activation bytes the unit reads as zeros (k - the input's K)
)
STREAM_LINEAR_BITS = sum(b for _, b in STREAM_LINEAR_FIELDS)
assert STREAM_LINEAR_BITS <= ct.NUMERICS.word_bits


# ---- attention (`rtl_lib/stream_attention_unit.sv`) -----------------------------------------

# (field, bits), least significant first: the layout `stream_attention_unit.sv` unpacks.
STREAM_ATTN_FIELDS: tuple[tuple[str, int], ...] = (
    ("q_base", 24),  # activation-buffer word of token 0's Q15.16 query row (heads * hd)
    ("k_base", 24),  # ... of token 0's K row (kv_heads * hd, after RoPE)
    ("v_base", 24),  # ... of token 0's V row
    ("o_base", 24),  # ... of token 0's Q15.16 output row (heads * hd)
    ("kv_addr", 32),  # byte address of the layer's first ring on every KV channel
    ("pos_base", 32),  # absolute position of token 0 (plus the position register if flag 2)
    ("tokens", 16),
    ("heads", 8),
    ("kv_heads", 8),
    ("score_mult", 16),  # contract.attention_score_scale(hd): M
    ("score_shift", 8),  # ... and its shift sh
    ("flags", 8),  # FLAG_ATTEND, FLAG_APPEND, FLAG_POS_REG
    ("rep", 8),  # heads / kv_heads (GQA group)
    ("reserved", 24),
)
assert sum(b for _, b in STREAM_ATTN_FIELDS) == ct.NUMERICS.word_bits


# ---- vector, RMSNorm, RoPE and embedding units --------------------------------------------

# (field, bits), least significant first: the layout `vector_unit.sv` unpacks.
VECTOR_FIELDS: tuple[tuple[str, int], ...] = (
    ("op", 8),  # OP_REQUANTIZE, OP_ADD (unit vec), OP_SWIGLU (unit act)
    ("x_base", 24),  # activation-buffer word of token 0's Q15.16 input row (add: x, swiglu: gate)
    ("y_base", 24),  # ... of the second operand (add: y, swiglu: up); 0 for requantize
    ("o_base", 24),  # ... of token 0's output row (A8 for requantize, Q15.16 otherwise)
    ("fo_base", 24),  # requantize: word of the output's per-token exponent bytes
    ("tokens", 16),
    ("x_row_words", 16),  # words per Q15.16 input row (length / 8)
    ("o_row_words", 16),  # words per output row
    ("reserved", 104),
)
assert sum(b for _, b in VECTOR_FIELDS) == ct.NUMERICS.word_bits

# (field, bits), least significant first: the layout `norm_unit.sv` unpacks.
NORM_FIELDS: tuple[tuple[str, int], ...] = (
    ("x_base", 24),  # activation-buffer word of token 0's Q15.16 input row
    ("o_base", 24),  # ... of token 0's Q15.16 output row
    ("tokens", 16),
    ("x_row_words", 16),  # words per row (length / 8)
    ("gain_base", 32),  # HBM word address of the gain table on the misc channel
    ("gain_words", 16),  # words of the gain table (norm_gain_words)
    ("gain_shift", 8),  # contract.rmsnorm_params' sh_g (NormParams.shift), 0..47
    ("eps_q", 32),  # ... eps in units of 2^-32 (NormParams.eps_q)
    ("reserved", 88),
)
assert sum(b for _, b in NORM_FIELDS) == ct.NUMERICS.word_bits

# (field, bits), least significant first: the layout `rope_cmd_unit.sv` unpacks.
ROPE_FIELDS: tuple[tuple[str, int], ...] = (
    ("x_base", 24),  # activation-buffer word of token 0's Q15.16 row (heads * head_dim)
    ("o_base", 24),  # ... of token 0's rotated row
    ("tokens", 16),
    ("heads", 8),
    ("half", 8),  # head_dim / 2 (must equal the unit's HALF)
    ("row_words", 16),  # words per row (heads * head_dim / 8)
    ("pos_base", 32),  # position of token 0 (plus the position register if flag 0)
    ("flags", 8),  # bit 0: add the runtime position register (decode)
    ("reserved", 120),
)
assert sum(b for _, b in ROPE_FIELDS) == ct.NUMERICS.word_bits

# (field, bits), least significant first: the layout `embedding_unit.sv` unpacks.
EMBEDDING_FIELDS: tuple[tuple[str, int], ...] = (
    ("ids_base", 24),  # activation-buffer word of the token ids (uint32, 8 per word)
    ("o_base", 24),  # ... of token 0's Q15.16 output row
    ("tokens", 16),
    ("x_row_words", 16),  # words per output row (hidden / 8)
    ("table_base", 32),  # HBM word address of the table region on the misc channel
    ("row_words", 16),  # words per table row (int8_words_per_row(hidden + 1))
    ("hidden", 16),  # values per row (the exponent is byte `hidden` of the row)
    ("reserved", 112),
)
assert sum(b for _, b in EMBEDDING_FIELDS) == ct.NUMERICS.word_bits
