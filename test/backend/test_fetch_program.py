# ruff: noqa: E501  (hand-written IR lines are kept whole to stay readable)
"""Fetch programs (accllm.backend.fetch_program): a schedule's HBM reads per channel, in the
order its units consume them. The expected entries are written out from the regions and the
stream layout here; accel-to-hw's encoding of them into fetch ROMs is checked by
test/Passes/accel_to_hw/linear_top.mlir."""

from __future__ import annotations

from xdsl.context import Context

from accllm.backend import fetch_program, tiling
from accllm.dialects import accel
from accllm.dialects.registry import register_all_dialects
from accllm.ir.io import Chunk, parse_chunk, verify_module
from accllm.rtl_lib.fetch_isa import End, Range, Ring

# sim's stream engine (4 channels, 1 lane, 1 word per beat, tiles of 4 tokens); linear a
# (64 x 64, 32 rows per channel) uses channels 0 and 1 only, channel 1's region after a table;
# the layer's KV rings are striped over channels 0 and 1 (KV heads 0, 2 and 1, 3).
IR = """
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 147456, kv_buffer_bytes = 73728, gemm_tokens = 64, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 16777216}
accel.hbm_region @t {kind = "table", channel = 1, offset = 0, bytes = 64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @a_c1 {kind = "weights", channel = 1, offset = 64, bytes = 1184}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 1280, bytes = 768, stripes = 2}
accel.buffer @x {kind = "act", offset = 0, bytes = 1024}
accel.buffer @y {kind = "act", offset = 1024, bytes = 8192}
accel.schedule @prefill attributes {mode = "gemm", tokens = 10} {
  accel.linear {mode = "gemm", precision = "w2", weights = [@a_c0, @a_c1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 10, rows_per_channel = 32}
}
accel.schedule @step attributes {mode = "gemv", tokens = 1} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
  accel.barrier {units = [0]}
  accel.attention {mode = "gemv", kv = @kv, q = @y, output = @x, heads = 4, kv_heads = 4, head_dim = 16, sink = 4, window = 12, tokens = 1}
  accel.barrier {units = [1]}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}
"""


def _module():
    ctx = Context()
    register_all_dialects(ctx)
    chunk = Chunk(IR, "fetch.mlir", 0)
    module = parse_chunk(ctx, chunk)
    verify_module(module, chunk)
    ops = list(module.ops)
    engine = next(o for o in ops if isinstance(o, accel.EngineOp))
    scheds = {o.sym_name.data: o for o in ops if isinstance(o, accel.ScheduleOp)}
    return module, engine, scheds


def test_a_linear_streams_its_channel_region_once_per_gemm_tile():
    module, engine, scheds = _module()
    # 32 passes of one weight word + 64 metadata entries (14 per word: 5 words) = 37 beats
    layout = tiling.linear_stream_layout(64, 64, 64, "w2", 32, 1, 1)
    assert layout.beats == 37
    tag = fetch_program.STREAM_TAGS["mac"]
    progs = fetch_program.schedule_programs(module, scheds["prefill"], engine)
    # every channel of the engine gets a program; 10 tokens = tiles of 4, 4, 2
    assert set(progs) == {0, 1, 2, 3}
    assert progs[0] == [Range(tag, 0, 37)] * 3 + [End()]
    assert progs[1] == [Range(tag, 64, 37)] * 3 + [End()]
    assert progs[2] == progs[3] == [End()]  # channels the linear does not use


def test_a_schedule_program_follows_the_instruction_order():
    module, engine, scheds = _module()
    progs = fetch_program.schedule_programs(module, scheds["step"], engine)
    tag = fetch_program.STREAM_TAGS["mac"]
    attn = fetch_program.STREAM_TAGS["attn"]
    assert attn != tag

    def rings(base: int) -> list[Ring]:
        """A KV head's ring at `base` (16 slots of head_dim 16: K codes 8 B per slot at +0,
        K scales 2 B at +128, V codes at +192, V scales at +320, each 64-byte aligned): the
        cached slots of K scales, K codes, V scales, V codes, at the run-time position."""
        return [Ring(attn, base + o, b, 16) for o, b in ((128, 2), (0, 8), (320, 2), (192, 8))]

    # the decode linear, the attention's rings of the channel's KV heads (ring after ring, 384
    # bytes each), the second linear
    lin0, lin1 = Range(tag, 0, 37), Range(tag, 64, 37)
    assert progs[0] == [lin0, *rings(1280), *rings(1280 + 384), lin0, End()]
    assert progs[1] == [lin1, *rings(1280), *rings(1280 + 384), lin1, End()]
    assert progs[2] == progs[3] == [End()]  # no weights, no KV rings there
