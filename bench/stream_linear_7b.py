"""Llama-2-7B linears on u280 through stream_linear_unit: cycles and bytes per decoded token.

    python -m accllm.bench.stream_linear_7b

The cost rule `cost.stream_linear_cycles` (within 5 % of Verilator on six small configurations,
test/backend/test_stream_linear_cost.py) applied to the 7B linears (q, k, v, o, gate, up, down
per layer, W2 2:4 at G = 128; the int8 LM head) on the u280 target as `derive_engine` sizes the
unit: every HBM channel (32) streams weights, 512-bit beats, `lanes_per_channel` lanes per channel,
each channel's beats offered at its bandwidth (14.375 GB/s at 225 MHz = 1.9965 words per cycle)
from the command's start. Decode is one token; prefill runs GEMM tiles of `tile_tokens`
tokens (weights streamed once per tile). It prints per linear the cycles, the stream's words
per channel and the time the channel needs for them, then the linears' cycles per decoded token
(the commands one after another, each from an empty stream: `perf_7b` prices the whole
program, the prefetch running across commands) and per prefill token, and the HBM bytes of the
stream layout against the old layout (rows and metadata word-aligned). These are estimates of
the RTL as written (the unit is the emitted top's MAC unit). Writes
results/stream_linear_7b.json.
"""

from __future__ import annotations

import json

from accllm.backend import tiling
from accllm.backend.perf import cost
from accllm.backend.target_desc import STREAM_META_FIFO_WORDS, derive_engine, load_target
from accllm.bench._common import LLAMA2_7B, write_results

GROUP = 128


def linears(cfg: dict) -> list[tuple[str, int, int, str, int]]:
    """(name, n, k, precision, count per token) of the 7B's linears."""
    h, f, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    kv = cfg["num_key_value_heads"] * cfg["head_dim"]
    per_layer = [("q", h, h), ("k", kv, h), ("v", kv, h), ("o", h, h)]
    per_layer += [("gate", f, h), ("up", f, h), ("down", h, f)]
    out = [(name, n, k, "w2", layers) for name, n, k in per_layer]
    return out + [("lm_head", cfg["vocab_size"], h, "int8", 1)]


def old_bytes(n: int, k: int, precision: str) -> int:
    """HBM bytes of the old linear_unit layout: word-aligned rows, word-aligned metadata."""
    if precision == "int8":
        return (n * tiling.int8_words_per_row(k) + tiling.int8_meta_words(n)) * 32
    return n * (tiling.w2_weight_words(1, k) + tiling.w2_meta_words_per_row(k, GROUP)) * 32


def figures() -> dict:
    cfg = json.loads(LLAMA2_7B.read_text())
    target = load_target("u280")
    eng = derive_engine(target, cfg["intermediate_size"])
    wpc = eng.words_per_cycle
    unit = cost.StreamUnit(
        lanes=eng.lanes_per_channel,
        channels=eng.weight_channels,
        blocks=eng.mac_blocks,
        words_per_beat=eng.words_per_beat,
        mfd=STREAM_META_FIFO_WORDS,
    )
    rows, decode, prefill, new_b, old_b = [], 0.0, 0.0, 0, 0
    tile = eng.tile_tokens
    for name, n, k, prec, count in linears(cfg):
        per = tiling.ceil_div(n, eng.weight_channels)
        split = tiling.split_per_channel(n, per, unit.lanes)
        lay = tiling.stream_layout(n, k, GROUP, prec, split, unit.words_per_beat)
        group = GROUP if prec == "w2" else k
        one = cost.stream_linear_cycles(lay, unit, k=k, group=group, tokens=1, words_per_cycle=wpc)
        tiled = cost.stream_linear_cycles(
            lay, unit, k=k, group=group, tokens=tile, words_per_cycle=wpc
        )
        stream = lay.words / wpc
        nbytes = lay.beats * unit.words_per_beat * 32 * split.channels_used
        rows.append(
            {
                "linear": name,
                "n": n,
                "k": k,
                "precision": prec,
                "per_token": count,
                "decode_cycles": one,
                "stream_cycles": round(stream, 1),
                "prefill_tile_cycles": tiled,
                "bytes": nbytes,
                "old_bytes": old_bytes(n, k, prec),
            }
        )
        decode += count * one
        prefill += count * tiled / tile
        new_b += count * nbytes
        old_b += count * old_bytes(n, k, prec)
    clock = target.clock_mhz * 1e6
    return {
        "target": "u280",
        "engine": {
            "channels": eng.weight_channels,
            "lanes_per_channel": eng.lanes_per_channel,
            "mac_blocks": eng.mac_blocks,
            "words_per_beat": eng.words_per_beat,
            "words_per_cycle": wpc,
            "tile_tokens": tile,
            "bound": eng.bound,
            "resources": eng.estimate,
        },
        "linears": rows,
        "decode_linear_cycles_per_token": decode,
        "decode_linear_ms_per_token": 1e3 * decode / clock,
        "prefill_linear_cycles_per_token": prefill,
        "linear_bytes_per_token": new_b,
        "old_linear_bytes_per_token": old_b,
        "stream_bound_cycles_per_token": new_b / (eng.weight_channels * wpc * 32),
        "note": "estimate of the RTL as written (stream_linear_unit), each command alone from an "
        "empty stream; perf_7b prices the program (prefetch across commands)",
    }


def main() -> None:
    f = figures()
    e = f["engine"]
    print(
        f"u280 stream_linear_unit: {e['channels']} channels x {e['lanes_per_channel']} lanes x "
        f"{e['mac_blocks']} blocks, {e['words_per_beat']} words per beat, "
        f"{e['words_per_cycle']:.4f} words/cycle per channel, GEMM tile {e['tile_tokens']} "
        f"(bound: {e['bound']}; {e['resources']})"
    )
    print(
        f"{'linear':8s} {'n':>6s} {'k':>6s} {'x':>3s} {'decode cyc':>11s} {'stream cyc':>11s} "
        f"{'tile cyc':>10s} {'MB':>8s} {'old MB':>8s}"
    )
    for r in f["linears"]:
        print(
            f"{r['linear']:8s} {r['n']:6d} {r['k']:6d} {r['per_token']:3d} "
            f"{r['decode_cycles']:11.0f} {r['stream_cycles']:11.0f} "
            f"{r['prefill_tile_cycles']:10.0f} {r['bytes'] / 1e6:8.2f} {r['old_bytes'] / 1e6:8.2f}"
        )
    print(
        f"decode: {f['decode_linear_cycles_per_token']:,.0f} linear cycles per token "
        f"({f['decode_linear_ms_per_token']:.3f} ms at 225 MHz; the weight stream alone needs "
        f"{f['stream_bound_cycles_per_token']:,.0f})"
    )
    print(f"prefill: {f['prefill_linear_cycles_per_token']:,.0f} linear cycles per token")
    print(
        f"linear weights + metadata: {f['linear_bytes_per_token'] / 1e6:,.1f} MB per token "
        f"(old layout {f['old_linear_bytes_per_token'] / 1e6:,.1f} MB)"
    )
    print(
        "(estimates of the RTL as written, each command alone from an empty stream; "
        "perf_7b prices the program)"
    )
    write_results("stream_linear_7b", f)


if __name__ == "__main__":
    main()
