"""Compressed-level IR of a whole tiny Llama (prefill and Λ decode functions) for the HLS tests.

The parameters are those of `numerics.compress.compress_model` (the golden model's), written to
a safetensors archive under the component names the `smla` types define (`<key>.codes`,
`.meta`, `.zero_point`, ...). The IR text spells out the decoder exactly as docs/numerics.md §9
orders it, one op per unit, in the dialects' quantized forms; it is the emitter's input, while
the expected integers come from `numerics.golden`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accllm.numerics import contract as ct
from accllm.numerics.compress import CompressedModel, NormParams, W2Components

ARCHIVE = "tiny.w2a8kv4.safetensors"
_LINEARS = ("q", "k", "v", "o", "gate", "up", "down")


def archive_tensors(cm: CompressedModel) -> dict[str, np.ndarray]:
    """Dialect-named components of every quantized parameter."""
    t: dict[str, np.ndarray] = {
        "embed.values": cm.embed_q.astype(np.int8),
        "embed.exp": cm.embed_exp.astype(np.int8),
        "lm_head.codes": cm.lm_q.astype(np.int8),
        "lm_head.scale_mant": cm.lm_mult.astype(np.uint16),
        "lm_head.scale_exp": cm.lm_exp.astype(np.int8),
        "final_norm.values": cm.final_norm.gain.astype(np.int16),
    }
    for i, layer in enumerate(cm.layers):
        t[f"l{i}.attn_norm.values"] = layer.attn_norm.gain.astype(np.int16)
        t[f"l{i}.mlp_norm.values"] = layer.mlp_norm.gain.astype(np.int16)
        for name in _LINEARS:
            for comp, arr in W2Components.from_linear(getattr(layer, name)).arrays().items():
                t[f"l{i}.{name}.{comp}"] = arr
    return t


def _res(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi32, frac=16>"


def _a8(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi8, per_token>"


class _Writer:
    """SSA text of one function body."""

    def __init__(self, cm: CompressedModel, t: int, theta: float):
        self.cm, self.t, self.theta = cm, t, theta
        self.lines: list[str] = []
        self.n = 0

    def fresh(self) -> str:
        self.n += 1
        return f"%v{self.n}"

    def emit(self, text: str) -> str:
        name = self.fresh()
        self.lines.append(f"  {name} = {text}")
        return name

    def weight(self, key: str, typ: str) -> str:
        return self.emit(f'smla.weight #smla.param<"{ARCHIVE}", "{key}"> : {typ}')

    def norm(self, x: str, key: str, p: NormParams) -> str:
        h = self.cm.hidden
        g = self.weight(key, f"!smla.qtensor<{h}xsi16, frac={p.shift}>")
        return self.emit(
            f"smla.rmsnorm {x}, {g} epsilon = {self.cm.rms_eps:.17e} : {_res(self.t, h)}, "
            f"!smla.qtensor<{h}xsi16, frac={p.shift}> -> {_res(self.t, h)}"
        )

    def a8(self, x: str, f: int) -> str:
        return self.emit(f"smla.requantize {x} : {_res(self.t, f)} -> {_a8(self.t, f)}")

    def linear(self, x: str, key: str, lin: ct.W2Linear) -> str:
        n, k, g = lin.out_features, lin.in_features, lin.group
        wt = f"!smla.qweight<{n}x{k}, ui2, group={g}, sparse=2:4>"
        w = self.weight(key, wt)
        return self.emit(
            f"smla.linear {x}, {w} {{acc_bits = {ct.NUMERICS.acc_bits}}} : {_a8(self.t, k)}, "
            f"{wt} -> {_res(self.t, n)}"
        )

    def rope(self, x: str, pos: str, f: int) -> str:
        cm = self.cm
        return self.emit(
            f"smla.rope {x}, {pos} {{head_dim = {cm.head_dim}, theta = {self.theta:.17e}, "
            f"max_positions = {cm.max_positions}}} : {_res(self.t, f)}, tensor<{self.t}xi64> "
            f"-> {_res(self.t, f)}"
        )


def module_text(cm: CompressedModel, prompt_len: int, sinks: int, window: int, theta: float):
    """IR with @prefill (prompt_len tokens on an empty cache) and @decode (one token)."""
    cache = (
        f"!lattn.kv_cache<heads={cm.n_kv_heads}, head_dim={cm.head_dim}, sink={sinks}, "
        f"window={window}, ui4>"
    )
    funcs = []
    for fname, t in (("prefill", prompt_len), ("decode", 1)):
        w = _Writer(cm, t, theta)
        h, q_f, kv_f = cm.hidden, cm.n_heads * cm.head_dim, cm.n_kv_heads * cm.head_dim
        table = w.weight("embed", f"!smla.qtensor<{cm.vocab}x{h}xsi8, per_token>")
        x = w.emit(
            f"smla.embedding %ids, {table} : tensor<{t}xi64>, "
            f"!smla.qtensor<{cm.vocab}x{h}xsi8, per_token> -> {_res(t, h)}"
        )
        caches_out = []
        for i, layer in enumerate(cm.layers):
            a = w.a8(w.norm(x, f"l{i}.attn_norm", layer.attn_norm), h)
            q = w.rope(w.linear(a, f"l{i}.q", layer.q), "%pos", q_f)
            k = w.rope(w.linear(a, f"l{i}.k", layer.k), "%pos", kv_f)
            v = w.linear(a, f"l{i}.v", layer.v)
            c = w.emit(f"lattn.append %c{i}, {k}, {v} : {cache}, {_res(t, kv_f)}, {_res(t, kv_f)}")
            caches_out.append(c)
            if fname == "prefill":
                att = w.emit(
                    f"lattn.prefill {q}, {k}, {v} {{num_heads = {cm.n_heads}, num_kv_heads = "
                    f"{cm.n_kv_heads}, causal, sink = {sinks}, window = {window}}} : "
                    f"{_res(t, q_f)}, {_res(t, kv_f)}, {_res(t, kv_f)} -> {_res(t, q_f)}"
                )
            else:
                att = w.emit(
                    f"lattn.decode {q}, {c} {{num_heads = {cm.n_heads}}} : {_res(t, q_f)}, "
                    f"{cache} -> {_res(t, q_f)}"
                )
            o = w.linear(w.a8(att, q_f), f"l{i}.o", layer.o)
            x = w.emit(f"smla.add {x}, {o} : {_res(t, h)}, {_res(t, h)} -> {_res(t, h)}")
            a = w.a8(w.norm(x, f"l{i}.mlp_norm", layer.mlp_norm), h)
            ffn = layer.gate.out_features
            gate = w.linear(a, f"l{i}.gate", layer.gate)
            up = w.linear(a, f"l{i}.up", layer.up)
            sw = w.emit(
                f"smla.swiglu {gate}, {up} : {_res(t, ffn)}, {_res(t, ffn)} -> {_res(t, ffn)}"
            )
            d = w.linear(w.a8(sw, ffn), f"l{i}.down", layer.down)
            x = w.emit(f"smla.add {x}, {d} : {_res(t, h)}, {_res(t, h)} -> {_res(t, h)}")
        a = w.a8(w.norm(x, "final_norm", cm.final_norm), h)
        ht = f"!smla.qweight<{cm.vocab}x{h}, si8>"
        head = w.weight("lm_head", ht)
        logits = w.emit(
            f"smla.lm_head {a}, {head} {{acc_bits = 32}} : {_a8(t, h)}, {ht} -> {_res(t, cm.vocab)}"
        )
        args = [f"%ids: tensor<{t}xi64>", f"%pos: tensor<{t}xi64>"]
        args += [f"%c{i}: {cache}" for i in range(len(cm.layers))]
        results = [_res(t, cm.vocab)] + [cache] * len(cm.layers)
        funcs.append(
            f"func.func @{fname}({', '.join(args)}) -> ({', '.join(results)}) {{\n"
            + "\n".join(w.lines)
            + f"\n  func.return {logits}, {', '.join(caches_out)} : {', '.join(results)}\n}}\n"
        )
    return "builtin.module {\n" + "\n".join(funcs) + "}\n"


def write_tiny(
    cm: CompressedModel, directory: Path, prompt_len: int, sinks: int, window: int, theta: float
) -> Path:
    """Write the archive and the IR into `directory`; returns the IR path."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    save_file(archive_tensors(cm), str(directory / ARCHIVE))
    path = directory / "tiny.mlir"
    path.write_text(module_text(cm, prompt_len, sinks, window, theta))
    return path
