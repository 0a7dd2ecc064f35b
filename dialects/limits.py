"""What the generated hardware can hold: the bounds the verifiers, checkpoint validation and the
driver check, each derived from where the hardware keeps the value.

A value beyond these bounds would not fail cleanly later: it would wrap in a descriptor field or
a Verilog `parameter int`, or make an emitter build tables until memory runs out.
"""

from __future__ import annotations

from accllm.backend.accel_program import STREAM_LINEAR_FIELDS
from accllm.backend.accel_program_attn import STREAM_ATTN_FIELDS


def field_max(fields: tuple[tuple[str, int], ...], name: str) -> int:
    """The largest value of a descriptor field (`accel_program*.py: *_FIELDS`)."""
    return (1 << dict(fields)[name]) - 1


# Verilog `parameter int` (SINK, WINDOW, HEAD_DIM, MAX_POS, KV_ENTRIES, ...) is 32-bit signed.
RTL_PARAM_MAX = (1 << 31) - 1
# Attention descriptor fields (attention_unit.sv): heads and kv_heads are 8 bits, tokens 16.
MAX_HEADS = field_max(STREAM_ATTN_FIELDS, "heads")
MAX_TOKENS = field_max(STREAM_ATTN_FIELDS, "tokens")
# Linear descriptor fields (linear_unit.sv): n, k and rows_per_channel are 20 bits; the LM head is
# a linear with n = vocab, so the vocabulary is bounded by it too.
MAX_FEATURES = field_max(STREAM_LINEAR_FIELDS, "n")
# RMSNorm: the contract keeps the sum of squares below 2^47 for H <= 2^16 (smla.rmsnorm).
MAX_HIDDEN = 1 << 16
# RoPE: the tables (contract.rope_tables) have ceil(max_positions / 64) high rows per frequency
# and are memory images of the rope unit; 2^20 positions (8x Llama-3.1's 131072) keeps them at
# 16384 rows; beyond that an emitter would build tables of gigabytes.
MAX_POSITIONS = 1 << 20
# Layers: every layer is imported, compressed and lowered as IR (tens of ops each, measured
# ~0.1 s per tiny layer); 1024 is 8x the deepest supported model (Llama-3.1-405B: 126 layers)
# and keeps a typo in num_hidden_layers from running for hours.
MAX_LAYERS = 1024
