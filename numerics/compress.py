"""Turn a float HF Llama model into the compressed integer parameters of the contract.

Linear layers: 2:4 magnitude pruning per aligned block of 4 along K, then W2 group quantization
with dyadic scales, packed into 256-bit words (contract.pack_2_4_w2). LM head: int8 per output
channel, symmetric, dyadic scale. Embedding: int8 per row with a power-of-two exponent.
RMSNorm: 16-bit gain mantissas with gamma * sqrt(H) folded in. RoPE: Q1.14 cos/sin tables.
All arithmetic is delegated to accllm.numerics.contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accllm.numerics import contract as ct


@dataclass(frozen=True)
class NormParams:
    """Integer RMSNorm constants: gain mantissas [H], one gain shift, eps in units of 2^-32."""

    gain: np.ndarray
    shift: int
    eps_q: int


@dataclass(frozen=True)
class CompressedLayer:
    """One decoder layer: the two norms and the seven W2 linears."""

    attn_norm: NormParams
    q: ct.W2Linear
    k: ct.W2Linear
    v: ct.W2Linear
    o: ct.W2Linear
    mlp_norm: NormParams
    gate: ct.W2Linear
    up: ct.W2Linear
    down: ct.W2Linear


@dataclass(frozen=True)
class CompressedModel:
    """All integer parameters of a compressed Llama decoder plus the shapes the golden model
    needs. ``embed_q``/``embed_exp``: int8 rows and their pow2 exponents; ``lm_q``/``lm_mult``/
    ``lm_exp``: int8 LM head with dyadic per-row scale M * 2^-e; ``rope_inv_freq`` the float
    inverse frequencies the RoPE tables were built from (for the float models)."""

    hidden: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab: int
    max_positions: int
    embed_q: np.ndarray
    embed_exp: np.ndarray
    layers: tuple[CompressedLayer, ...]
    final_norm: NormParams
    lm_q: np.ndarray
    lm_mult: np.ndarray
    lm_exp: np.ndarray
    rope: ct.RopeTables
    rope_inv_freq: np.ndarray
    rms_eps: float


@dataclass(frozen=True)
class W2Components:
    """A W2 linear as unpacked integer arrays, named like the IR's `!smla.qweight` components.

    codes: uint8 [N, K/2] kept codes in K order (2:4) or [N, K] (dense); meta: uint8 [N, K/4]
    2:4 pattern codes (None when dense); zero_point: uint8 [N, K/G]; scale_mant: uint16
    [N, K/G]; scale_exp: int8 [N]. weight[o, k] = S[o,g] * 2^-e[o] * (code - z[o,g]).
    """

    codes: np.ndarray
    meta: np.ndarray | None
    zero_point: np.ndarray
    scale_mant: np.ndarray
    scale_exp: np.ndarray
    group: int

    @classmethod
    def from_linear(cls, lin: ct.W2Linear) -> W2Components:
        """The components of a packed contract weight (unpacks the 2:4 W2 stream)."""
        codes, patterns = ct.unpack_2_4_w2(lin.packed, lin.in_features)
        return cls(
            codes=codes.reshape(lin.out_features, -1).astype(np.uint8),
            meta=patterns.astype(np.uint8),
            zero_point=np.asarray(lin.zp, dtype=np.uint8),
            scale_mant=np.asarray(lin.scale_mant, dtype=np.uint16),
            scale_exp=np.asarray(lin.scale_exp, dtype=np.int8),
            group=lin.group,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Component name -> array (the order and names of `QWeightType.components()`)."""
        out = {
            "codes": self.codes,
            "zero_point": self.zero_point,
            "scale_mant": self.scale_mant,
            "scale_exp": self.scale_exp,
        }
        if self.meta is not None:
            out["meta"] = self.meta
        return out


def w2_components(
    w, name: str, group: int = ct.NUMERICS.default_group, sparse: bool = True
) -> W2Components:
    """2:4-prune (``sparse``) and W2-quantize a float weight [N, K] into unpacked components.
    K is first zero-padded to contract.padded_k(K) (a multiple of 32): the components are
    those of the [N, padded K] weight.

    The 2:4 mask is contract.prune_2_4_mask: on a weight that was already pruned (at most two
    non-zeros per block, e.g. by Wanda) it keeps exactly the non-zeros, so the pruning decision
    made earlier is preserved. The group size comes from contract.group_size_for, which raises
    naming ``name`` if K fits no allowed group. ``sparse=False`` quantizes every weight (dense
    W2: G codes per group).
    """
    w = np.asarray(w, dtype=np.float64)
    if w.shape[1] % 4 and sparse:
        raise ValueError(
            f"{name}: 2:4 pruning needs an input size K divisible by 4, got {w.shape[1]}"
        )
    w = np.pad(w, [(0, 0), (0, ct.padded_k(w.shape[1]) - w.shape[1])])  # zero-padded K
    n, k = w.shape
    g = ct.group_size_for(k, group, name)
    if sparse:
        patterns = ct.mask_to_patterns(ct.prune_2_4_mask(w))
        pos = ct.patterns_to_positions(patterns).reshape(n, k // 2)
        kept = np.take_along_axis(w, pos, axis=1).reshape(n, k // g, g // 2)
        meta = patterns.astype(np.uint8)
    else:
        kept = w.reshape(n, k // g, g)
        meta = None
    codes, zp, mant, exp = ct.quantize_w2_groups(kept)
    return W2Components(
        codes=codes.reshape(n, -1),
        meta=meta,
        zero_point=zp,
        scale_mant=mant.astype(np.uint16),
        scale_exp=exp.astype(np.int8),
        group=g,
    )


def compress_linear(w, name: str, group: int = ct.NUMERICS.default_group, bias=None) -> ct.W2Linear:
    """2:4-prune and W2-quantize a float weight [N, K] (group size from contract.group_size_for,
    which raises naming ``name`` if K fits no allowed group) into the packed HBM form; a float
    bias [N] becomes Q15.16 (contract.quantize_bias)."""
    comp = w2_components(w, name, group)
    n, k = comp.meta.shape[0], 4 * comp.meta.shape[1]  # K zero-padded by w2_components
    packed = ct.pack_2_4_w2(comp.codes.reshape(n, k // 4, 2), comp.meta)
    return ct.W2Linear(
        packed=packed,
        zp=comp.zero_point,
        scale_mant=comp.scale_mant,
        scale_exp=comp.scale_exp,
        in_features=k,
        out_features=n,
        group=comp.group,
        bias=None if bias is None else ct.quantize_bias(bias),
    )


def compress_norm(gamma, eps: float) -> NormParams:
    """RMSNorm gains to integers (contract.rmsnorm_params)."""
    gain, shift, eps_q = ct.rmsnorm_params(np.asarray(gamma, dtype=np.float64), eps)
    return NormParams(gain, shift, eps_q)


def _np(t) -> np.ndarray:
    return t.detach().to("cpu").double().numpy()


def compress_model(model, group: int = ct.NUMERICS.default_group) -> CompressedModel:
    """Compress a HF Llama-family causal LM (float: Llama, Mistral, Qwen2) into a
    CompressedModel.

    The configuration is checked first (models.support.check_config: model type, activation,
    RoPE type). Linear biases (Qwen2's q/k/v, attention_bias/mlp_bias) become Q15.16 biases;
    any other bias tensor is an error naming it. RoPE: the model's own inverse frequencies
    (transformers' rope init functions computed them), carried as theta when they are the
    default RoPE (contract.rope_default_theta), exactly as the frontend decides.
    """
    from accllm.models.support import check_config

    cfg = model.config
    check_config(cfg)
    _check_biases(model)
    rot = model.model.rotary_emb
    if float(rot.attention_scaling) != 1.0:
        raise ValueError(
            f"compress_model: RoPE attention scaling {float(rot.attention_scaling)} "
            f"(rope_type {rot.rope_type!r}) is not supported"
        )
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    inv_freq = rope_frequencies(rot.inv_freq.detach().cpu().float().numpy(), hd)
    eps = float(cfg.rms_norm_eps)
    layers = []
    for i, layer in enumerate(model.model.layers):
        a, m = layer.self_attn, layer.mlp

        def lin(mod, nm, i=i):
            b = None if mod.bias is None else _np(mod.bias)
            return compress_linear(_np(mod.weight), f"layers.{i}.{nm}", group, b)

        layers.append(
            CompressedLayer(
                attn_norm=compress_norm(_np(layer.input_layernorm.weight), eps),
                q=lin(a.q_proj, "self_attn.q_proj"),
                k=lin(a.k_proj, "self_attn.k_proj"),
                v=lin(a.v_proj, "self_attn.v_proj"),
                o=lin(a.o_proj, "self_attn.o_proj"),
                mlp_norm=compress_norm(_np(layer.post_attention_layernorm.weight), eps),
                gate=lin(m.gate_proj, "mlp.gate_proj"),
                up=lin(m.up_proj, "mlp.up_proj"),
                down=lin(m.down_proj, "mlp.down_proj"),
            )
        )
    embed_q, embed_exp = ct.quantize_rows_pow2(_np(model.model.embed_tokens.weight))
    lm_q, lm_mult, lm_exp = ct.quantize_int8_rows(_np(model.lm_head.weight))
    return CompressedModel(
        hidden=cfg.hidden_size,
        n_heads=cfg.num_attention_heads,
        n_kv_heads=cfg.num_key_value_heads,
        head_dim=hd,
        vocab=cfg.vocab_size,
        max_positions=cfg.max_position_embeddings,
        embed_q=embed_q.astype(np.int8),
        embed_exp=embed_exp.astype(np.int8),
        layers=tuple(layers),
        final_norm=compress_norm(_np(model.model.norm.weight), eps),
        lm_q=lm_q.astype(np.int8),
        lm_mult=lm_mult.astype(np.uint16),
        lm_exp=lm_exp.astype(np.int8),
        rope=ct.rope_tables(inv_freq, cfg.max_position_embeddings),
        rope_inv_freq=inv_freq,
        rms_eps=eps,
    )


def rope_frequencies(inv_freq_f32, head_dim: int) -> np.ndarray:
    """The float64 inverse frequencies of a model's float32 RoPE buffer: theta^(-2i/hd) in
    float64 (contract.rope_inv_freq) when it is the default RoPE of base theta, else the
    model's own values (llama3, linear scaling)."""
    theta = ct.rope_default_theta(inv_freq_f32, head_dim)
    if theta is not None:
        return ct.rope_inv_freq(theta, head_dim)
    return np.asarray(inv_freq_f32, dtype=np.float32).astype(np.float64)


def _check_biases(model) -> None:
    """Every bias tensor of the checkpoint must be one the contract adds: a decoder linear's."""
    linears = {f".{hf}.bias" for hf in HF_LINEARS.values()}
    for name, _ in model.named_parameters():
        if name.endswith(".bias") and not (
            name.startswith("model.layers.") and any(name.endswith(t) for t in linears)
        ):
            raise ValueError(
                f"compress_model: bias tensor '{name}' has no place in the integer pipeline "
                "(only the decoder linears' biases are supported)"
            )


# CompressedLayer field -> HF module path inside a decoder layer.
HF_LINEARS = {
    "q": "self_attn.q_proj",
    "k": "self_attn.k_proj",
    "v": "self_attn.v_proj",
    "o": "self_attn.o_proj",
    "gate": "mlp.gate_proj",
    "up": "mlp.up_proj",
    "down": "mlp.down_proj",
}
HF_NORMS = {"attn_norm": "input_layernorm", "mlp_norm": "post_attention_layernorm"}


def compressed_tensors(cm: CompressedModel) -> dict[str, np.ndarray]:
    """Flat name -> array view of a CompressedModel (HF-style names plus a field suffix), the
    parameter archive the IR refers to. Scalars (norm shift and eps, shapes) are stored as small
    1-d arrays."""
    t: dict[str, np.ndarray] = {
        "model.embed_tokens.q": cm.embed_q,
        "model.embed_tokens.exp": cm.embed_exp,
        "lm_head.q": cm.lm_q,
        "lm_head.mult": cm.lm_mult,
        "lm_head.exp": cm.lm_exp,
        "rope.cos_lo": cm.rope.cos_lo,
        "rope.sin_lo": cm.rope.sin_lo,
        "rope.cos_hi": cm.rope.cos_hi,
        "rope.sin_hi": cm.rope.sin_hi,
        "rope.inv_freq": cm.rope_inv_freq,
        "meta.shape": np.array(
            [cm.hidden, cm.n_heads, cm.n_kv_heads, cm.head_dim, cm.vocab, cm.max_positions],
            dtype=np.int64,
        ),
        "meta.rms_eps": np.array([cm.rms_eps], dtype=np.float64),
    }

    def norm(prefix, p: NormParams):
        t[f"{prefix}.gain"] = p.gain
        t[f"{prefix}.shift_eps_q"] = np.array([p.shift, p.eps_q], dtype=np.int64)

    norm("model.norm", cm.final_norm)
    for i, ly in enumerate(cm.layers):
        for field, hf in HF_NORMS.items():
            norm(f"model.layers.{i}.{hf}", getattr(ly, field))
        for field, hf in HF_LINEARS.items():
            lin: ct.W2Linear = getattr(ly, field)
            pre = f"model.layers.{i}.{hf}"
            t[f"{pre}.packed"] = lin.packed
            t[f"{pre}.zp"] = lin.zp
            t[f"{pre}.scale_mant"] = lin.scale_mant
            t[f"{pre}.scale_exp"] = lin.scale_exp
            t[f"{pre}.shape"] = np.array([lin.in_features, lin.out_features, lin.group])
            if lin.bias is not None:
                t[f"{pre}.bias"] = lin.bias
    return {k: np.ascontiguousarray(v) for k, v in t.items()}


def save_compressed(cm: CompressedModel, path) -> None:
    """Write compressed_tensors(cm) to a safetensors file."""
    from safetensors.numpy import save_file

    save_file(compressed_tensors(cm), str(path))


def load_compressed(path) -> CompressedModel:
    """Read a file written by save_compressed back into a CompressedModel."""
    from safetensors.numpy import load_file

    t = load_file(str(path))
    hidden, nh, nkv, hd, vocab, maxp = (int(v) for v in t["meta.shape"])

    def norm(prefix):
        shift, eps_q = (int(v) for v in t[f"{prefix}.shift_eps_q"])
        return NormParams(t[f"{prefix}.gain"], shift, eps_q)

    def lin(pre):
        k, n, g = (int(v) for v in t[f"{pre}.shape"])
        return ct.W2Linear(
            t[f"{pre}.packed"],
            t[f"{pre}.zp"],
            t[f"{pre}.scale_mant"],
            t[f"{pre}.scale_exp"],
            k,
            n,
            g,
            t.get(f"{pre}.bias"),
        )

    n_layers = 1 + max(int(k.split(".")[2]) for k in t if k.startswith("model.layers."))
    layers = tuple(
        CompressedLayer(
            **{f: norm(f"model.layers.{i}.{hf}") for f, hf in HF_NORMS.items()},
            **{f: lin(f"model.layers.{i}.{hf}") for f, hf in HF_LINEARS.items()},
        )
        for i in range(n_layers)
    )
    return CompressedModel(
        hidden=hidden,
        n_heads=nh,
        n_kv_heads=nkv,
        head_dim=hd,
        vocab=vocab,
        max_positions=maxp,
        embed_q=t["model.embed_tokens.q"],
        embed_exp=t["model.embed_tokens.exp"],
        layers=layers,
        final_norm=norm("model.norm"),
        lm_q=t["lm_head.q"],
        lm_mult=t["lm_head.mult"],
        lm_exp=t["lm_head.exp"],
        rope=ct.RopeTables(t["rope.cos_lo"], t["rope.sin_lo"], t["rope.cos_hi"], t["rope.sin_hi"]),
        rope_inv_freq=t["rope.inv_freq"],
        rms_eps=float(t["meta.rms_eps"][0]),
    )


def wanda_mask_2_4(w, input_sq_sum) -> np.ndarray:
    """2:4 mask by the Wanda score |W[o, k]| * ||X[:, k]||_2 (Sun et al. 2023, "A Simple and
    Effective Pruning Approach for LLMs"): ``input_sq_sum`` [K] is the sum over calibration
    tokens of each input feature squared. Block selection and ties are contract.prune_2_4_mask's
    (keep the 2 largest scores of each aligned block of 4, lower index on ties)."""
    norms = np.sqrt(np.asarray(input_sq_sum, dtype=np.float64))
    return ct.prune_2_4_mask(np.abs(np.asarray(w, dtype=np.float64)) * norms[None, :])
