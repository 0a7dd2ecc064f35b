# ruff: noqa: E501  (hand-written IR lines are kept whole to stay readable)
"""Shared fixtures: the tiny default model (GQA), its parameter archives in the IR's naming, and
hand-written IR of the whole decoder at the model (float) and compressed (integer) levels.

The IR text is written here op by op (a template per level), not produced by the frontend or
the compression passes, so the interpreter is tested independently of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from accllm.numerics import contract as ct
from accllm.numerics.compress import (
    HF_LINEARS,
    HF_NORMS,
    CompressedModel,
    W2Components,
    compress_model,
)

F32_FILE = "tiny.f32.safetensors"
W2_FILE = "tiny.w2.safetensors"


def compressed_archive(cm: CompressedModel) -> dict[str, np.ndarray]:
    """The compressed model as the tensors its IR's `#smla.param` references name."""
    t = {
        "model.embed_tokens.values": cm.embed_q,
        "model.embed_tokens.exp": cm.embed_exp,
        "model.norm.values": cm.final_norm.gain.astype(np.int16),
        "lm_head.codes": cm.lm_q,
        "lm_head.scale_mant": cm.lm_mult,
        "lm_head.scale_exp": cm.lm_exp,
    }
    for i, layer in enumerate(cm.layers):
        for field, hf in HF_NORMS.items():
            t[f"model.layers.{i}.{hf}.values"] = getattr(layer, field).gain.astype(np.int16)
        for field, hf in HF_LINEARS.items():
            for comp, arr in W2Components.from_linear(getattr(layer, field)).arrays().items():
                t[f"model.layers.{i}.{hf}.{comp}"] = arr
    return {k: np.ascontiguousarray(v) for k, v in t.items()}


@dataclass
class Tiny:
    """The tiny model, its compressed form and the directory holding both archives."""

    model: object
    cm: CompressedModel
    dir: Path

    @property
    def cfg(self):
        return self.model.config


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    from safetensors.numpy import save_file

    from accllm.models.default import build_model, default_config

    model = build_model(default_config(gqa=True), seed=0)
    cm = compress_model(model)
    d = tmp_path_factory.mktemp("tiny")
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    save_file(state, str(d / F32_FILE))
    save_file(compressed_archive(cm), str(d / W2_FILE))
    return Tiny(model, cm, d)


# --------------------------------------------------------------------------------------------
# IR templates
# --------------------------------------------------------------------------------------------


class DecoderIR:
    """Writes the decoder of `tiny` as IR for `tokens` tokens per call.

    level "float" (model level, f32 tensors) or "w2" (compressed: residual si32 frac=16, A8
    before every linear, 2:4 W2 linears, int8 LM head, KV4 caches). attention "prefill"
    (lattn.prefill over the call's tokens) or "cache" (each layer appends to its cache, then
    lattn.prefill for several tokens or lattn.decode for one; caches are arguments/results).
    """

    def __init__(self, tiny: Tiny, level: str, tokens: int, sink: int, window: int):
        self.t, self.level, self.T, self.S, self.W = tiny, level, tokens, sink, window
        cfg = tiny.cfg
        self.H, self.I, self.V = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
        self.nh, self.nkv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.hd = cfg.head_dim
        self.eps = f"{cfg.rms_norm_eps:.17e}"
        self.theta = f"{float(cfg.rope_parameters['rope_theta']):.1f}"
        self.maxp = cfg.max_position_embeddings

    # types
    def act(self, n: int) -> str:
        if self.level == "float":
            return f"tensor<1x{self.T}x{n}xf32>"
        return f"!smla.qtensor<1x{self.T}x{n}xsi32, frac=16>"

    def a8(self, n: int) -> str:
        return f"!smla.qtensor<1x{self.T}x{n}xsi8, per_token>"

    def cache(self) -> str:
        elem = "f32" if self.level == "float" else "ui4"
        return (
            f"!lattn.kv_cache<heads={self.nkv}, head_dim={self.hd}, sink={self.S}, "
            f"window={self.W}, {elem}>"
        )

    def weight(self, name: str, key: str, n: int, k: int | None, group: int | None = None):
        """(weight op line, weight type)."""
        if self.level == "float":
            typ = f"tensor<{n}x{k}xf32>" if k else f"tensor<{n}xf32>"
            return f'%{name} = smla.weight #smla.param<"{F32_FILE}", "{key}.weight"> : {typ}', typ
        return f'%{name} = smla.weight #smla.param<"{W2_FILE}", "{key}"> : {group}', group

    def linear(self, out: str, x: str, key: str, n: int, k: int) -> list[str]:
        if self.level == "float":
            wl, wt = self.weight(f"w_{out}", key, n, k)
            return [
                wl,
                f"%{out} = smla.linear %{x}, %w_{out} : {self.act(k)}, {wt} -> {self.act(n)}",
            ]
        g = ct.group_size_for(k)
        wt = f"!smla.qweight<{n}x{k}, ui2, group={g}, sparse=2:4>"
        wl, _ = self.weight(f"w_{out}", key, n, k, wt)
        return [
            f"%{x}_a8_{out} = smla.requantize %{x} : {self.act(k)} -> {self.a8(k)}",
            wl,
            f"%{out} = smla.linear %{x}_a8_{out}, %w_{out} {{acc_bits = 48}} : {self.a8(k)}, "
            f"{wt} -> {self.act(n)}",
        ]

    def norm(self, out: str, x: str, key: str, gain_shift: int) -> list[str]:
        h = self.H
        if self.level == "float":
            wl, wt = self.weight(f"g_{out}", key, h, None)
        else:
            wt = f"!smla.qtensor<{h}xsi16, frac={gain_shift}>"
            wl, _ = self.weight(f"g_{out}", key, h, None, wt)
        return [
            wl,
            f"%{out} = smla.rmsnorm %{x}, %g_{out} epsilon = {self.eps} : {self.act(h)}, {wt} "
            f"-> {self.act(h)}",
        ]

    def layer(self, i: int, with_cache: bool) -> str:
        H, I, kvf = self.H, self.I, self.nkv * self.hd  # noqa: E741
        ly = self.t.cm.layers[i]
        p = f"model.layers.{i}"
        rope = f"{{head_dim = {self.hd}, theta = {self.theta}, max_positions = {self.maxp}}}"
        pos_t = f"tensor<{self.T}xi64>"
        body = self.norm("x", "h", f"{p}.input_layernorm", ly.attn_norm.shift)
        body += self.linear("q", "x", f"{p}.self_attn.q_proj", H, H)
        body += self.linear("k", "x", f"{p}.self_attn.k_proj", kvf, H)
        body += self.linear("v", "x", f"{p}.self_attn.v_proj", kvf, H)
        body += [
            f"%qr = smla.rope %q, %pos {rope} : {self.act(H)}, {pos_t} -> {self.act(H)}",
            f"%kr = smla.rope %k, %pos {rope} : {self.act(kvf)}, {pos_t} -> {self.act(kvf)}",
        ]
        qkv = f"{self.act(H)}, {self.act(kvf)}, {self.act(kvf)} -> {self.act(H)}"
        attrs = f"num_heads = {self.nh}, num_kv_heads = {self.nkv}, causal"
        if with_cache:
            body.append(
                f"%c1 = lattn.append %c, %kr, %v : {self.cache()}, {self.act(kvf)}, {self.act(kvf)}"
            )
        if with_cache and self.T == 1:
            body.append(
                f"%o = lattn.decode %qr, %c1 {{num_heads = {self.nh}}} : {self.act(H)}, "
                f"{self.cache()} -> {self.act(H)}"
            )
        else:
            body.append(
                f"%o = lattn.prefill %qr, %kr, %v {{{attrs}, sink = {self.S}, window = {self.W}}}"
                f" : {qkv}"
            )
        body += self.linear("op", "o", f"{p}.self_attn.o_proj", H, H)
        body.append(f"%h2 = smla.add %h, %op : {self.act(H)}, {self.act(H)} -> {self.act(H)}")
        body += self.norm("x2", "h2", f"{p}.post_attention_layernorm", ly.mlp_norm.shift)
        body += self.linear("gate", "x2", f"{p}.mlp.gate_proj", I, H)
        body += self.linear("up", "x2", f"{p}.mlp.up_proj", I, H)
        body.append(f"%a = smla.swiglu %gate, %up : {self.act(I)}, {self.act(I)} -> {self.act(I)}")
        body += self.linear("down", "a", f"{p}.mlp.down_proj", H, I)
        body.append(f"%h3 = smla.add %h2, %down : {self.act(H)}, {self.act(H)} -> {self.act(H)}")
        args = f"%h: {self.act(H)}, %pos: {pos_t}"
        if with_cache:
            args += f", %c: {self.cache()}"
            body.append(f"func.return %h3, %c1 : {self.act(H)}, {self.cache()}")
            res = f"({self.act(H)}, {self.cache()})"
        else:
            body.append(f"func.return %h3 : {self.act(H)}")
            res = self.act(H)
        lines = "\n".join("  " + b for b in body)
        return f"func.func @layer{i}({args}) -> {res} {{\n{lines}\n}}\n"

    def forward(self, with_cache: bool = False) -> str:
        """The whole IR module: @forward(ids, pos[, caches]) -> (logits[, caches]) calling
        @layer<i>; with caches also @init() -> the empty caches."""
        H, L = self.H, len(self.t.cm.layers)
        pos_t, ids_t = f"tensor<{self.T}xi64>", f"tensor<1x{self.T}xi64>"
        if self.level == "float":
            tt = f"tensor<{self.V}x{H}xf32>"
            table = f'%table = smla.weight #smla.param<"{F32_FILE}", "model.embed_tokens.weight"> : {tt}'
            head_t = f"tensor<{self.V}x{H}xf32>"
            head = f'%wl = smla.weight #smla.param<"{F32_FILE}", "lm_head.weight"> : {head_t}'
            logits_t = f"tensor<1x{self.T}x{self.V}xf32>"
        else:
            tt = f"!smla.qtensor<{self.V}x{H}xsi8, per_token>"
            table = f'%table = smla.weight #smla.param<"{W2_FILE}", "model.embed_tokens"> : {tt}'
            head_t = f"!smla.qweight<{self.V}x{H}, si8>"
            head = f'%wl = smla.weight #smla.param<"{W2_FILE}", "lm_head"> : {head_t}'
            logits_t = f"!smla.qtensor<1x{self.T}x{self.V}xsi32, frac=16>"
        body = [table, f"%h0 = smla.embedding %ids, %table : {ids_t}, {tt} -> {self.act(H)}"]
        for i in range(L):
            if with_cache:
                body.append(
                    f"%h{i + 1}, %nc{i} = func.call @layer{i}(%h{i}, %pos, %c{i}) : "
                    f"({self.act(H)}, {pos_t}, {self.cache()}) -> ({self.act(H)}, {self.cache()})"
                )
            else:
                body.append(
                    f"%h{i + 1} = func.call @layer{i}(%h{i}, %pos) : ({self.act(H)}, {pos_t}) -> "
                    f"{self.act(H)}"
                )
        body += self.norm("xf", f"h{L}", "model.norm", self.t.cm.final_norm.shift)
        if self.level == "float":
            body += [
                head,
                f"%logits = smla.lm_head %xf, %wl : {self.act(H)}, {head_t} -> {logits_t}",
            ]
        else:
            body += [
                f"%xf_a8 = smla.requantize %xf : {self.act(H)} -> {self.a8(H)}",
                head,
                f"%logits = smla.lm_head %xf_a8, %wl {{acc_bits = 32}} : {self.a8(H)}, {head_t} "
                f"-> {logits_t}",
            ]
        args = f"%ids: {ids_t}, %pos: {pos_t}"
        rets, rtypes = ["%logits"], [logits_t]
        if with_cache:
            args += "".join(f", %c{i}: {self.cache()}" for i in range(L))
            rets += [f"%nc{i}" for i in range(L)]
            rtypes += [self.cache()] * L
        body.append(f"func.return {', '.join(rets)} : {', '.join(rtypes)}")
        text = "".join(self.layer(i, with_cache) for i in range(L))
        lines = "\n".join("  " + b for b in body)
        text += f"func.func @forward({args}) -> ({', '.join(rtypes)}) {{\n{lines}\n}}\n"
        if with_cache:
            empties = [f"  %e{i} = lattn.empty : {self.cache()}" for i in range(L)]
            ret = ", ".join(f"%e{i}" for i in range(L))
            text += (
                f"func.func @init() -> ({', '.join([self.cache()] * L)}) {{\n"
                + "\n".join(empties)
                + f"\n  func.return {ret} : {', '.join([self.cache()] * L)}\n}}\n"
            )
        return text

    def write(self, name: str, with_cache: bool = False) -> Path:
        """Write the module next to the parameter archives; returns its path."""
        path = self.t.dir / name
        path.write_text(self.forward(with_cache))
        return path


def run_ir_text(text: str, inputs, entry: str = "f", base_dir="."):
    """Parse, verify and interpret IR text (as `accllm run` does for a file)."""
    from xdsl.context import Context

    from accllm.dialects.registry import register_all_dialects
    from accllm.interpreter.runner import run_function
    from accllm.ir.io import Chunk, parse_chunk, verify_module

    ctx = Context()
    register_all_dialects(ctx)
    chunk = Chunk(text, "test.mlir", 0)
    module = parse_chunk(ctx, chunk)
    verify_module(module, chunk)
    return run_function(module, entry, inputs, base_dir=base_dir)


@pytest.fixture
def run_ir():
    """run_ir(text, inputs, entry="f") -> outputs."""
    return run_ir_text


@pytest.fixture
def decoder_ir(tiny):
    """Factory: decoder_ir(level, tokens, sink, window) -> DecoderIR."""

    def make(level: str, tokens: int, sink: int, window: int) -> DecoderIR:
        return DecoderIR(tiny, level, tokens, sink, window)

    return make
