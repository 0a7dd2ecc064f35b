"""Checkpoint validation before any work: each failure is one line naming the file and tensor.

transformers loads what it can and fills the rest: a missing tensor, or a config with more layers
than the weights hold, is initialised with random values (a warning only), a tensor of another
shape may be refused deep inside loading, NaN weights load silently.  accllm checks instead, in
this order, before the model is built:

1. config.json: valid JSON; sizes are positive integers within what the hardware holds
   (`dialects/limits.py`, the limit in the message); heads divide hidden, KV heads divide heads;
2. every *.safetensors file: a readable header whose tensors lie inside the file;
3. the tensors the config implies (names and shapes of the model class built on the meta device,
   so every supported family is covered by transformers' own definition): each present with that
   shape, none extra (weights of layers the config does not have would be dropped silently);
4. every value finite (the first tensor holding NaN/Inf is named).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from accllm.dialects import limits

# safetensors dtype -> bytes per element
_ST_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
_MAX_HEADER = 100 << 20  # safetensors' own limit on the JSON header

# Sizes every supported config has, with the largest value the hardware holds.
_SIZES = {
    "vocab_size": limits.MAX_FEATURES,
    "hidden_size": limits.MAX_HIDDEN,
    "intermediate_size": limits.MAX_FEATURES,
    "num_hidden_layers": limits.MAX_LAYERS,
    "num_attention_heads": limits.MAX_HEADS,
    "num_key_value_heads": limits.MAX_HEADS,
    "max_position_embeddings": limits.MAX_POSITIONS,
}


class CheckpointInvalid(ValueError):
    """A checkpoint accllm refuses (one line: file, tensor or field, and why)."""


def _get(cfg, name: str):
    return cfg.get(name) if isinstance(cfg, dict) else getattr(cfg, name, None)


def validate_config(cfg, where: str) -> None:
    """Check the sizes of a config (a config.json dict or a transformers config)."""
    for name, limit in _SIZES.items():
        value = _get(cfg, name)
        if value is None:
            if name == "num_key_value_heads":
                continue  # defaults to num_attention_heads
            if isinstance(cfg, dict):
                continue  # the config class supplies a default; checked on the object
            raise CheckpointInvalid(f"{where}: config field '{name}' is missing")
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckpointInvalid(f"{where}: {name} must be an integer, got {value!r}")
        if value < 1:
            raise CheckpointInvalid(f"{where}: {name} must be >= 1, got {value}")
        if value > limit:
            raise CheckpointInvalid(
                f"{where}: {name} = {value} exceeds {limit}, the most the accelerator holds"
            )
    hidden, heads = _get(cfg, "hidden_size"), _get(cfg, "num_attention_heads")
    kv = _get(cfg, "num_key_value_heads") or heads
    if isinstance(hidden, int) and isinstance(heads, int) and hidden % heads:
        raise CheckpointInvalid(
            f"{where}: num_attention_heads = {heads} does not divide hidden_size = {hidden}"
        )
    if isinstance(heads, int) and isinstance(kv, int) and heads % kv:
        raise CheckpointInvalid(
            f"{where}: num_key_value_heads = {kv} does not divide num_attention_heads = {heads}"
        )
    head_dim = _get(cfg, "head_dim")
    if head_dim is None and isinstance(hidden, int) and isinstance(heads, int):
        head_dim = hidden // heads
    if isinstance(head_dim, int) and (head_dim < 2 or head_dim % 2):
        raise CheckpointInvalid(f"{where}: head_dim = {head_dim} must be even and >= 2 (RoPE)")
    eps = _get(cfg, "rms_norm_eps")
    if eps is not None and not (isinstance(eps, int | float) and 0 <= eps < math.inf):
        raise CheckpointInvalid(f"{where}: rms_norm_eps must be finite and >= 0, got {eps!r}")


def read_config_json(path: Path) -> dict:
    """config.json as a dict, or CheckpointInvalid (never a JSON traceback)."""
    file = path / "config.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointInvalid(f"{file}: cannot read: {err}") from err
    except json.JSONDecodeError as err:
        raise CheckpointInvalid(f"{file}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise CheckpointInvalid(f"{file}: not a JSON object")
    validate_config(data, str(file))
    return data


def read_safetensors_header(file: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """name -> (dtype, shape) from a safetensors header, checking that every tensor lies in
    the file."""
    try:
        size = file.stat().st_size
        with open(file, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointInvalid(f"{file}: truncated safetensors file ({size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > _MAX_HEADER or 8 + n > size:
                raise CheckpointInvalid(
                    f"{file}: bad safetensors header (header length {n}, file {size} bytes)"
                )
            raw = f.read(n)
    except OSError as err:
        raise CheckpointInvalid(f"{file}: cannot read: {err.strerror}") from err
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointInvalid(f"{file}: bad safetensors header: {err}") from err
    if not isinstance(header, dict):
        raise CheckpointInvalid(f"{file}: bad safetensors header: not a JSON object")
    data_bytes = size - 8 - n
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape = entry["dtype"], tuple(entry["shape"])
            begin, end = entry["data_offsets"]
            ok = dtype in _ST_BYTES and all(isinstance(d, int) and d >= 0 for d in shape)
            ok = ok and isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise CheckpointInvalid(f"{file}: tensor '{name}': bad safetensors header entry")
        if end - begin != math.prod(shape) * _ST_BYTES[dtype]:
            raise CheckpointInvalid(
                f"{file}: tensor '{name}': {end - begin} data bytes for shape {list(shape)} "
                f"of {dtype}"
            )
        if end > data_bytes:
            raise CheckpointInvalid(
                f"{file}: tensor '{name}' ends at byte {end} of a {data_bytes}-byte data "
                "section (truncated file?)"
            )
        out[name] = (dtype, shape)
    return out


def expected_tensors(config) -> tuple[dict[str, tuple[int, ...]], set[str]]:
    """(name -> shape the config implies, names that may be absent because they are tied)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    tied: set[str] = set()
    if getattr(config, "tie_word_embeddings", False):
        tied.add("lm_head.weight")
    return shapes, tied


def validate_tensors(path: Path, config) -> None:
    """Every tensor the config implies is present with its shape; none is extra; all finite."""
    files = sorted(path.glob("*.safetensors"))
    found: dict[str, tuple[Path, tuple[int, ...]]] = {}
    for file in files:
        for name, (_, shape) in read_safetensors_header(file).items():
            found[name] = (file, shape)
    want, optional = expected_tensors(config)
    layers = _get(config, "num_hidden_layers")
    for name, shape in want.items():
        if name not in found:
            if name in optional:
                continue
            raise CheckpointInvalid(
                f"{path}: tensor '{name}' is missing (config.json: {layers} layers); "
                "transformers would initialise it with random values"
            )
        file, got = found[name]
        if got != shape:
            raise CheckpointInvalid(
                f"{file}: tensor '{name}' has shape {list(got)}, config.json implies {list(shape)}"
            )
    for name, (file, _) in found.items():
        if name not in want and not name.endswith("rotary_emb.inv_freq"):
            raise CheckpointInvalid(
                f"{file}: tensor '{name}' is not part of the model config.json describes "
                f"({layers} layers): a config/weights mismatch"
            )
    check_finite(files)


def check_finite(files: list[Path]) -> None:
    """Name the first tensor holding NaN or Inf (one tensor in memory at a time)."""
    import torch
    from safetensors import safe_open

    for file in files:
        with safe_open(str(file), framework="pt") as f:
            for name in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                t = f.get_tensor(name)
                if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                    bad = int((~torch.isfinite(t)).sum())
                    kind = "NaN" if bool(torch.isnan(t).any()) else "Inf"
                    raise CheckpointInvalid(
                        f"{file}: tensor '{name}' holds {kind} ({bad} non-finite values)"
                    )


_VALIDATED: set[tuple] = set()  # checkpoints found valid in this process (by file stats)


def _fingerprint(path: Path) -> tuple:
    files = sorted([path / "config.json", *path.glob("*.safetensors")])
    return tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


def validate_checkpoint(path: str | Path, config=None) -> None:
    """The whole validation of a checkpoint directory (config, headers, tensors, values).

    A checkpoint already found valid in this process (same files, sizes and times) is not read
    again: the driver validates before any work and loading validates again."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise CheckpointInvalid(f"{path}: not a checkpoint directory (no config.json)")
    if not list(path.glob("*.safetensors")):
        raise CheckpointInvalid(
            f"{path}: no *.safetensors weights (pickled weights are not loaded)"
        )
    read_config_json(path)
    key = _fingerprint(path)
    if key in _VALIDATED:
        return
    if config is None:
        from transformers import AutoConfig

        try:
            config = AutoConfig.from_pretrained(path, local_files_only=True)
        except (ValueError, KeyError, TypeError, OSError) as err:
            first = str(err).strip().split("\n")[0]
            raise CheckpointInvalid(f"{path / 'config.json'}: {first}") from err
    validate_config(config, str(path / "config.json"))
    validate_tensors(path, config)
    _VALIDATED.add(key)
