"""What accllm supports of a model's configuration, checked at config time (before any weight is
loaded or any export runs), and the Λ attention shape a model asks for.

Every refusal names the config field and its value, e.g.
``rope_scaling type 'yarn' is not supported (supported: default, dynamic, linear, llama3)``.
docs/frontend.md has the support matrix these rules implement.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2")
# transformers' rope init functions accllm takes the frequencies from (attention factor 1).
# 'dynamic' (NTK) equals the default up to max_position_embeddings, where the tables end.
SUPPORTED_ROPE_TYPES = ("default", "dynamic", "linear", "llama3")
SUPPORTED_ACTIVATIONS = ("silu",)  # the SwiGLU unit (contract.swiglu_int)

# Λ attention defaults (StreamingLLM's 4 sinks; 1020 + 4 = a 1024-slot cache).
DEFAULT_SINKS = 4
DEFAULT_WINDOW = 1020


class UnsupportedConfig(ValueError):
    """A configuration field whose value accllm cannot compile."""


def _rope_type(cfg) -> str:
    params = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    if isinstance(params, dict) and "rope_type" not in params and "type" not in params:
        nested = [v for v in params.values() if isinstance(v, dict)]
        if nested:  # per-layer-type parameters (e.g. {"full_attention": {...}})
            kinds = {p.get("rope_type", p.get("type", "default")) for p in nested}
            if len(kinds) > 1:
                raise UnsupportedConfig(
                    f"rope_parameters: one RoPE type per model is supported, got {sorted(kinds)}"
                )
            return kinds.pop()
    return params.get("rope_type", params.get("type", "default")) if params else "default"


def check_config(cfg) -> None:
    """Raise UnsupportedConfig naming the first field accllm cannot compile."""
    mt = getattr(cfg, "model_type", None)
    if mt not in SUPPORTED_MODEL_TYPES:
        raise UnsupportedConfig(
            f"model_type '{mt}' is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    act = getattr(cfg, "hidden_act", "silu")
    if act not in SUPPORTED_ACTIVATIONS:
        raise UnsupportedConfig(
            f"hidden_act '{act}' has no unit (supported: {', '.join(SUPPORTED_ACTIVATIONS)})"
        )
    rope = _rope_type(cfg)
    if rope not in SUPPORTED_ROPE_TYPES:
        raise UnsupportedConfig(
            f"rope_scaling type '{rope}' is not supported "
            f"(supported: {', '.join(SUPPORTED_ROPE_TYPES)})"
        )
    params = getattr(cfg, "rope_parameters", None) or {}
    factor = params.get("partial_rotary_factor", 1.0) if isinstance(params, dict) else 1.0
    factor = getattr(cfg, "partial_rotary_factor", None) or factor
    if float(factor) != 1.0:
        raise UnsupportedConfig(f"partial_rotary_factor {factor} is not supported (only 1.0)")
    heads, kv = getattr(cfg, "num_attention_heads", 1), getattr(cfg, "num_key_value_heads", None)
    if kv and heads % kv:
        raise UnsupportedConfig(
            f"num_key_value_heads {kv} does not divide num_attention_heads {heads} (GQA shares "
            "each KV head among a whole number of query heads)"
        )
    if mt == "qwen2" and getattr(cfg, "use_sliding_window", False):
        raise UnsupportedConfig(
            "use_sliding_window True is not supported for qwen2 (its sliding layers start at "
            "max_window_layers; accllm gives every layer the same Λ shape)"
        )


def model_window(cfg) -> int | None:
    """The sliding window the model itself applies to every layer (Mistral's
    ``sliding_window``), or None."""
    if getattr(cfg, "model_type", None) == "mistral":
        w = getattr(cfg, "sliding_window", None)
        return int(w) if w else None
    return None


@dataclass(frozen=True)
class LambdaShape:
    sinks: int
    window: int
    reason: str
    warning: str | None = None


def lambda_shape(cfg, sinks: int | None, window: int | None) -> LambdaShape:
    """The Λ S/W to compile with: the user's values where given, else the model's own sliding
    window with 0 sinks (Mistral attends to exactly the last sliding_window keys), else the
    defaults. An explicit window that differs from the model's is allowed, with a warning."""
    mw = model_window(cfg) if cfg is not None else None
    if mw is None:
        s = DEFAULT_SINKS if sinks is None else sinks
        w = DEFAULT_WINDOW if window is None else window
        why = "the model has no sliding window; " + (
            "S and W from the command line"
            if sinks is not None and window is not None
            else f"defaults S={DEFAULT_SINKS}, W={DEFAULT_WINDOW} where not given"
        )
        return LambdaShape(s, w, why)
    s = 0 if sinks is None else sinks
    w = mw if window is None else window
    why = (
        f"the model's sliding_window {mw}"
        + (" (sinks 0, as the model attends to no sink tokens)" if sinks is None else "")
        + (f", sinks {sinks} as asked" if sinks is not None else "")
    )
    warning = None
    if window is not None and window != mw:
        why = f"--window {window} as asked (the model's sliding_window is {mw})"
        warning = (
            f"--window {window} differs from the model's sliding_window {mw}: the compiled "
            "attention is not the model's"
        )
    elif s:
        warning = f"{s} sink tokens: the model's own sliding window has none"
    return LambdaShape(s, w, why, warning)
