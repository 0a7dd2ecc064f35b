"""The performance estimate of a module on a target: latency, tokens/s, HBM, resources.

`estimate_module` reads the workload (`workload.workloads`), builds the engine of the target
(`derive_engine`, the lowering's one rule) and evaluates:

* decode: one token at a context of c tokens (Λ: the attention sees min(c, S + W) keys), for a
  sweep of contexts; tokens/s = clock / cycles; HBM bytes per token and utilisation =
  bytes x tokens/s / peak bandwidth;
* prefill of T prompt tokens: programs of `prefill_tile` tokens (the engine's program height,
  capped so a program's live activations fit the activation buffer), each running the whole
  schedule (its linears tile by tile on the stream unit);
* the HBM roofline of the same storage (peak bandwidth / decode bytes per token);
* resources (`resources.estimate`);
* power and tokens per joule (`power.estimate`: a pre-silicon estimate, no board measurement).

For an accel module, `schedule_cycles` gives the cycle count of each schedule exactly as
lowered (its own token count), which is what simulation is compared with.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from xdsl.dialects.builtin import ModuleOp

from accllm.backend.perf import power, resources
from accllm.backend.perf.cost import Machine, run_schedule
from accllm.backend.perf.workload import Assumed, Step, Workload, workloads
from accllm.backend.target_desc import derive_engine, load_target
from accllm.dialects import accel

DEFAULT_ASSUMED = Assumed()
DECODE_CONTEXTS = (1, 128, 256, 512, 1024, 2048, 4096, 8192)
PREFILL_TOKENS = (512, 2048)


class EstimateError(ValueError):
    """The module and target do not fit together (message says why)."""


def _max_features(wl: Workload) -> int:
    return max([s.n for s in wl.linears()] + [s.k for s in wl.linears()] + [1])


# accel.engine fields that must equal the target's derived engine (the IR was lowered for it).
ENGINE_FIELDS = (
    "weight_channels",
    "lanes_per_channel",
    "mac_blocks",
    "words_per_beat",
    "tile_tokens",
    "fifo_beats",
)


def machine_for(module: ModuleOp, wl: Workload, target: str) -> Machine:
    """Target + derived engine; an accel module must have been lowered for this target."""
    t = load_target(target)
    eng = derive_engine(t, _max_features(wl))
    engines = [o for o in module.ops if isinstance(o, accel.EngineOp)]
    for e in engines:
        if e.target.data != t.name:
            raise EstimateError(
                f"the module was lowered for target '{e.target.data}', estimating for '{t.name}'"
            )
        for name in ENGINE_FIELDS:
            if e.get(name) != getattr(eng, name):
                raise EstimateError(
                    f"accel.engine {name} = {e.get(name)} differs from the "
                    f"target's derived {getattr(eng, name)}"
                )
        # The tile height depends on the features the lowering saw: take the IR's.
        eng = replace(eng, gemm_tokens=e.get("gemm_tokens"))
    return Machine(t, eng)


def with_window(wl: Workload, sink: int, window: int) -> Workload:
    """The workload with every Λ cache at S = sink, W = window (a what-if over the IR's)."""
    steps = [
        Step(**{**s.__dict__, "sink": sink, "window": window})
        if s.kind in ("attention", "kv_append")
        else s
        for s in wl.steps
    ]
    return Workload(wl.name, steps, wl.tokens, wl.live_bytes_per_token, dict(wl.assumed))


def decode(wl: Workload, m: Machine, context: int) -> dict:
    """One decode token whose position is context - 1 (it attends to `context` tokens)."""
    r = run_schedule(wl.steps, m, 1, context - 1)
    clock = m.target.clock_mhz * 1e6
    tps = clock / r.cycles
    nbytes = r.read + r.written
    return {
        "context": context,
        "cycles": round(r.cycles),
        "latency_ms": round(r.cycles / clock * 1e3, 4),
        "tokens_per_s": round(tps, 2),
        "hbm_bytes_per_token": round(nbytes),
        "hbm_utilisation": round(nbytes * tps / (m.target.hbm_bandwidth_gbps * 1e9), 4),
        "cycles_by_kind": {k: round(v) for k, v in sorted(r.by_kind.items())},
        "stream_beats_per_channel": round(max(r.stream_beats.values(), default=0.0)),
    }


def prefill_tile(wl: Workload, m: Machine) -> int:
    """Tokens per prefill program: the engine's program height (`gemm_tokens`), capped by the
    live activation bytes (the activation buffer is on chip)."""
    tile = m.engine.gemm_tokens
    if wl.live_bytes_per_token:
        tile = min(tile, m.engine.act_buffer_bytes // wl.live_bytes_per_token)
    if tile < 1:
        raise EstimateError(
            f"one token's live activations ({wl.live_bytes_per_token} B) exceed the "
            f"activation buffer ({m.engine.act_buffer_bytes} B)"
        )
    return tile


def prefill(wl: Workload, m: Machine, tokens: int) -> dict:
    """A prompt of `tokens` tokens, program by program (each sees the earlier ones' KV)."""
    tile = prefill_tile(wl, m)
    cycles = nbytes = 0.0
    for start in range(0, tokens, tile):
        r = run_schedule(wl.steps, m, min(tile, tokens - start), start)
        cycles += r.cycles
        nbytes += r.read + r.written
    secs = cycles / (m.target.clock_mhz * 1e6)
    return {
        "tokens": tokens,
        "tile_tokens": tile,
        "cycles": round(cycles),
        "latency_ms": round(secs * 1e3, 3),
        "tokens_per_s": round(tokens / secs, 2),
        "hbm_bytes": round(nbytes),
    }


def roofline(m: Machine, bytes_per_token: float) -> float:
    """Decode tokens/s if every byte of a token moved at the peak HBM bandwidth."""
    return m.target.hbm_bandwidth_gbps * 1e9 / bytes_per_token


def schedule_cycles(
    module: ModuleOp,
    target: str,
    positions: dict[str, int] | None = None,
) -> dict:
    """Estimated cycles of each accel.schedule at its own token count (for simulation checks),
    its first token at `positions[name]` (default 0: a prefill from the start; a decode step
    runs at the position register's value)."""
    out = {}
    for wl in workloads(module):
        m = machine_for(module, wl, target)
        pos = (positions or {}).get(wl.name, 0)
        out[wl.name] = round(run_schedule(wl.steps, m, wl.tokens, pos).cycles)
    return out


def estimate_workload(
    wl: Workload, m: Machine, contexts=DECODE_CONTEXTS, prompts=PREFILL_TOKENS
) -> dict:
    """Decode sweep, prefill, roofline and resources of one workload."""
    sweep = [decode(wl, m, c) for c in contexts]
    lam = {(s.sink, s.window) for s in wl.attentions()}
    full = max(contexts)
    at_full = decode(wl, m, full)
    res = resources.estimate(
        m,
        max([s.k for s in wl.linears()] + [1]),
        max([s.head_dim for s in wl.attentions()] + [0]),
        max([s.kv_heads for s in wl.attentions()] + [0]),
    )
    return {
        "workload": wl.name,
        "lambda": sorted(lam),
        "assumed_compression": wl.assumed,
        "decode": sweep,
        "prefill": [prefill(wl, m, t) for t in prompts],
        "roofline": {
            "context": full,
            "bytes_per_token": at_full["hbm_bytes_per_token"],
            "tokens_per_s": round(roofline(m, at_full["hbm_bytes_per_token"]), 2),
        },
        "resources": res,
        # decode at the sweep's longest context, one prefill program (docs/performance.md)
        "power": power.estimate(wl, m, res, full, prefill_tile(wl, m)),
    }


def estimate_module(
    module: ModuleOp,
    target: str,
    assumed: Assumed = DEFAULT_ASSUMED,
    sink: int = 0,
    window: int = 0,
    contexts=DECODE_CONTEXTS,
    prompts=PREFILL_TOKENS,
) -> dict:
    """The estimate of every workload of `module` on `target` (JSON-ready dict)."""
    out = []
    for wl in workloads(module, assumed):
        if window:
            wl = with_window(wl, sink, window)
        m = machine_for(module, wl, target)
        out.append(estimate_workload(wl, m, contexts, prompts))
    t = load_target(target)
    return {
        "target": t.name,
        "clock_mhz": t.clock_mhz,
        "hbm_bandwidth_gbps": t.hbm_bandwidth_gbps,
        "engine": {
            k: v
            for k, v in asdict(
                machine_for(module, workloads(module, assumed)[0], target).engine
            ).items()
            if k != "estimate"
        },
        "workloads": out,
    }
