"""Llama-2-7B attention on u280 through stream_attention_unit: cycles per decoded token.

    python -m accllm.bench.stream_attention_7b

The cost rule `cost.stream_attention_cycles` (cycle-exact against Verilator on three small
configurations, rtl_lib/tests/test_stream_attention_unit.py) applied to the 7B geometry from
its config.json on the u280 target: one pipeline per HBM channel (32), 512-bit beats, S = 4,
W in {1020, 2044}, every KV slot filled (context >= S + W). It prints, per layer and per decoded
token, the unit's cycles (the stream keeping up), the KV beats one channel streams for it and the
time the channel needs for them at its bandwidth, and a prefill chunk. These are estimates of
the RTL as written (the emitted top's attention unit); `perf_7b` prices the whole program (the
prefetch and FIFOs). Writes results/stream_attention_7b.json.
"""

from __future__ import annotations

import json

from accllm.backend.perf import cost
from accllm.backend.target_desc import load_target
from accllm.bench._common import LLAMA2_7B, write_results


def figures(window: int, sink: int = 4, chunk: int = 16) -> dict:
    cfg = json.loads(LLAMA2_7B.read_text())
    target = load_target("u280")
    hbm = target.hbm
    layers, heads = cfg["num_hidden_layers"], cfg["num_attention_heads"]
    kvh, hd = cfg["num_key_value_heads"], cfg["head_dim"]
    g = cost.StreamAttnGeometry(
        pipes=hbm.channels,
        head_dim=hd,
        dw=hbm.axi_data_bits,
        sink=sink,
        window=window,
        write_latency=hbm.latency_cycles + cost.AXI_ISSUE,
    )
    cached = sink + window  # a full ring: context >= S + W
    layer = cost.stream_attention_cycles(g, heads, kvh, 1, cached)
    append = cost.stream_attention_cycles(g, heads, kvh, 1, cached, attend=False)
    run = cost.stream_attn_pipe_cycles(g, heads // kvh, cached, 0)
    beats = -(-kvh // g.pipes) * 2 * (
        g.ring_beats(cached, 2) + g.ring_beats(cached, g.code_bytes)
    )  # fmt: skip
    bytes_per_cycle = hbm.channel_bandwidth_gbps * 1e9 / (target.clock_mhz * 1e6)
    stream = beats * g.beat_bytes / bytes_per_cycle
    prefill = cost.stream_attention_cycles(g, heads, kvh, chunk, cached)
    return {
        "window": window,
        "pipelines": g.pipes,
        "decode_cycles_per_layer": layer,
        "decode_cycles_per_token": layers * layer,
        "append_and_writeback_cycles_per_layer": append,
        "pipeline_run_cycles": run,
        "kv_beats_per_channel_per_layer": beats,
        "kv_stream_cycles_per_layer": round(stream, 1),
        "unit_over_stream": round(layer / stream, 3),
        "decode_ms_per_token_at_clock": round(layers * layer / (target.clock_mhz * 1e3), 3),
        f"prefill_chunk_{chunk}_cycles_per_layer_full_ring": prefill,
    }


def main() -> None:
    out = {"note": "estimate of the stream_attention_unit RTL as written (the unit alone)"}
    for window in (1020, 2044):
        f = figures(window)
        out[f"W{window}"] = f
        print(f"Llama-2-7B u280, S=4, W={window}, {f['pipelines']} pipelines (estimate of the RTL)")
        print(
            f"  decode: {f['decode_cycles_per_layer']} cycles per layer, "
            f"{f['decode_cycles_per_token']} per token "
            f"({f['decode_ms_per_token_at_clock']} ms at 225 MHz if nothing overlapped)"
        )
        print(
            f"    of which append + KV write-back {f['append_and_writeback_cycles_per_layer']}, "
            f"one pipeline's run {f['pipeline_run_cycles']}"
        )
        print(
            f"  KV stream: {f['kv_beats_per_channel_per_layer']} beats per channel per layer "
            f"= {f['kv_stream_cycles_per_layer']} cycles at the channel's bandwidth "
            f"(unit / stream = {f['unit_over_stream']})"
        )
        key = next(k for k in f if k.startswith("prefill_chunk"))
        print(f"  {key.replace('_', ' ')}: {f[key]}")  # fmt: skip
    write_results("stream_attention_7b", out)


if __name__ == "__main__":
    main()
