"""Packing a float checkpoint into a design's HBM images (`accllm pack-weights`).

The design was emitted from the model's shapes (`accllm compile --config-only`); its
`hbm_layout.json` (`backend/hbm_layout.py`) names every region, the tensor it holds and the
tensor's format.  The packer streams the checkpoint's safetensors (single or sharded with
`model.safetensors.index.json`; fp32, fp16 or bf16) one tensor at a time: each is made fp32
(what the import writes; bf16 and fp16 widen exactly), compressed with the contract functions
the compression passes call (magnitude 2:4 + RTN W2 `compress.w2_components`, the LM head
`contract.quantize_int8_rows`, the embedding `contract.quantize_rows_pow2`, RMSNorm gains
`contract.rmsnorm_params`), encoded by `hbm_layout.encode_item` (the simulator's image builder
uses the same) and written at its region's offset in `hbm_c<channel>.bin` -- one raw
little-endian image per channel, sized to the channel's last region.  Every tensor's presence
and shape are checked against the layout before anything is written.

The norm descriptors' `gain_shift` (the design's one weight-dependent field) is written into a
copy of the design's `norm_desc.hex` in the output directory, keyed by `gain_base`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accllm.backend.hbm_layout import (
    LAYOUT_FORMAT,
    LAYOUT_VERSION,
    LayoutError,
    LayoutItem,
    encode_item,
)
from accllm.numerics import contract as ct
from accllm.numerics.compress import w2_components
from accllm.numerics.words import WORD_BYTES

INDEX_FILE = "model.safetensors.index.json"


class PackError(Exception):
    """A checkpoint or layout the packer refuses (the message names the file / tensor)."""


@dataclass
class PackResult:
    weights: int = 0  # float weights read
    tensors: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # read / compress / encode / write
    images: list[Path] = field(default_factory=list)
    norm_rom: Path | None = None

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def read_layout(path: Path) -> dict:
    """hbm_layout.json, checked for the fields the packer uses."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as err:
        raise PackError(f"{path}: cannot read: {err}") from err
    except json.JSONDecodeError as err:
        raise PackError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(doc, dict) or doc.get("format") != LAYOUT_FORMAT:
        raise PackError(f"{path}: not an accllm HBM layout (format '{LAYOUT_FORMAT}')")
    if doc.get("version") != LAYOUT_VERSION:
        raise PackError(
            f"{path}: layout version {doc.get('version')}, this accllm reads {LAYOUT_VERSION}"
        )
    for key in ("channels", "regions", "images", "word_bytes"):
        if key not in doc:
            raise PackError(f"{path}: layout has no '{key}'")
    if doc["word_bytes"] != WORD_BYTES:
        raise PackError(f"{path}: {doc['word_bytes']}-byte words, the encoders write {WORD_BYTES}")
    return doc


def layout_items_of(doc: dict) -> list[LayoutItem]:
    """The layout's model-data items (a linear's parts on all its channels are one item)."""
    items: dict[tuple[str, str], LayoutItem] = {}
    for r in doc["regions"]:
        if r.get("format") in (None, "kv4_rings"):
            continue
        key = (r["format"], r["tensor"])
        skip = {"name", "kind", "channel", "stripes", "offset", "bytes", "format", "file"}
        params = {k: v for k, v in r.items() if k not in skip | {"tensor", "shape", "part"}}
        item = items.setdefault(
            key, LayoutItem(r["format"], [], r["file"], r["tensor"], tuple(r["shape"]), params)
        )
        item.regions.append(r)
    for item in items.values():
        item.regions.sort(key=lambda r: r["part"])
        if [r["part"] for r in item.regions] != list(range(item.params["parts"])):
            raise PackError(f"layout: tensor {item.tensor} ({item.format}) is missing a part")
    return list(items.values())


class Checkpoint:
    """A Hugging Face safetensors checkpoint, read one tensor at a time (safe_open)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise PackError(f"{path}: not a checkpoint directory")
        index = self.path / INDEX_FILE
        self.files: dict[str, Path] = {}
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
            except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
                raise PackError(f"{index}: not a safetensors index ({err})") from err
            for key, file in weight_map.items():
                self.files[key] = self.path / file
            missing = {f for f in self.files.values() if not f.is_file()}
            if missing:
                raise PackError(f"{index}: names missing shard {sorted(missing)[0].name}")
        else:
            shards = sorted(self.path.glob("*.safetensors"))
            if not shards:
                raise PackError(f"{path}: no *.safetensors weights")
            for shard in shards:
                for key in self._open(shard).keys():
                    self.files[key] = shard
        self._handles: dict[Path, object] = {}

    def _open(self, file: Path):
        from safetensors import safe_open

        try:
            return safe_open(str(file), framework="pt")
        except Exception as err:  # safetensors raises its own error types
            raise PackError(f"{file}: not a readable safetensors file: {err}") from err

    def _handle(self, key: str):
        file = self.files[key]
        if file not in self._handles:
            self._handles.clear()  # one open shard at a time
            self._handles[file] = self._open(file)
        return self._handles[file]

    def shape(self, key: str) -> tuple[int, ...] | None:
        if key not in self.files:
            return None
        return tuple(self._handle(key).get_slice(key).get_shape())

    def get(self, key: str) -> np.ndarray:
        """The tensor as fp32 (bf16 / fp16 widen exactly; fp64 is rounded as the import does)."""
        import torch

        # A shard of its own per tensor: closing it unmaps the shard, so the pages read stay
        # out of the packer's resident memory (a 500 MB shard would otherwise stay mapped).
        with self._open(self.files[key]) as f:
            t = f.get_tensor(key)
            if not t.is_floating_point():
                raise PackError(f"{self.files[key]}: tensor {key} is {t.dtype}, not a float tensor")
            return t.to(torch.float32, copy=True).numpy()


ROW_BLOCK = 2048  # rows per call of a row-wise quantizer (a 32 k-row table in 16 blocks)


def _by_rows(quantize, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """A row-wise contract quantizer over row blocks (its float64 temporaries stay small; the
    rows are independent, so the result is the one call's), the codes kept as int8."""
    parts = [quantize(w[i : i + ROW_BLOCK]) for i in range(0, len(w), ROW_BLOCK)]
    codes = np.concatenate([p[0] for p in parts]).astype(np.int8)
    return (codes, *(np.concatenate([p[j] for p in parts]) for j in range(1, len(parts[0]))))


def compress_tensor(item: LayoutItem, w: np.ndarray) -> tuple[dict[str, np.ndarray], int | None]:
    """The integer components of `item`'s format from its float tensor (and a norm's gain
    shift), by the contract functions the compression passes call."""
    p = item.params
    if p.get("bias"):
        raise PackError(
            f"{item.tensor}: a biased linear (bias {p['bias']}) is not packed from a float "
            "checkpoint yet: compile it from the checkpoint (accllm compile)"
        )
    if item.format == "w2_2_4_stream":
        comp = w2_components(w, item.tensor, p["group"], sparse=True)
        if comp.group != p["group"]:
            raise PackError(f"{item.tensor}: group {comp.group}, the layout has {p['group']}")
        return comp.arrays(), None
    if item.format == "int8_stream":
        q, m, e = _by_rows(ct.quantize_int8_rows, w)
        return {"codes": q, "scale_mant": m, "scale_exp": e}, None
    if item.format == "embedding_rows":
        q, f = _by_rows(ct.quantize_rows_pow2, w)
        return {"values": q, "exp": f}, None
    if item.format == "norm_gain":
        gain, shift, _ = ct.rmsnorm_params(w, 0.0)  # eps is the design's (eps_q)
        return {"values": gain}, shift
    raise PackError(f"layout: tensor {item.tensor} has the unknown format '{item.format}'")


def check_shapes(ckpt: Checkpoint, items: list[LayoutItem]) -> None:
    for item in items:
        got = ckpt.shape(item.tensor)
        if got is None:
            raise PackError(
                f"{ckpt.path}: tensor {item.tensor} (the layout's {item.format} region "
                f"{item.regions[0]['name']}) is not in the checkpoint"
            )
        if got != item.shape:
            raise PackError(
                f"{ckpt.path}: tensor {item.tensor} has shape {list(got)}, the design's layout "
                f"expects {list(item.shape)} (a checkpoint of another model size?)"
            )


def patch_norm_rom(rom_text: str, fields: dict, shifts: dict[int, int]) -> str:
    """`norm_desc.hex` with each descriptor's gain_shift set from `shifts` (gain_base ->
    shift); a descriptor whose gain table the packer did not fill is an error."""
    gs, gb = fields["gain_shift"], fields["gain_base"]
    out = []
    for line in rom_text.split():
        word = int(line, 16)
        base = (word >> gb["lsb"]) & ((1 << gb["bits"]) - 1)
        if base not in shifts:
            raise PackError(f"norm descriptor with gain_base {base}: no norm gain region there")
        word &= ~(((1 << gs["bits"]) - 1) << gs["lsb"])
        word |= shifts[base] << gs["lsb"]
        out.append(f"{word:0{len(line)}x}")
    return "\n".join(out) + "\n"


def pack_weights(
    checkpoint: Path,
    layout_path: Path,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> PackResult:
    """Write the HBM images of `layout_path`'s design from `checkpoint` into `out`."""
    doc = read_layout(layout_path)
    items = layout_items_of(doc)
    ckpt = Checkpoint(checkpoint)
    check_shapes(ckpt, items)
    out.mkdir(parents=True, exist_ok=True)
    result = PackResult(seconds={"read": 0.0, "compress": 0.0, "encode": 0.0, "write": 0.0})
    sizes = doc["images"]["bytes"]
    files = [out / doc["images"]["file"].format(c) for c in range(doc["channels"])]
    handles = []
    for f, size in zip(files, sizes, strict=True):
        h = open(f, "wb")  # noqa: SIM115 - closed below, all channels stay open while packing
        h.truncate(size)  # unwritten bytes (KV rings, padding) read as zero
        handles.append(h)
    shifts: dict[int, int] = {}
    try:
        for item in items:
            t0 = time.perf_counter()
            w = ckpt.get(item.tensor)
            t1 = time.perf_counter()
            try:
                comps, shift = compress_tensor(item, w)
            except ValueError as err:
                raise PackError(f"{item.tensor}: {err}") from err
            t2 = time.perf_counter()
            words = encode_item(item, comps.__getitem__)
            t3 = time.perf_counter()
            for region, ws in zip(item.regions, words, strict=True):
                data = b"".join(x.to_bytes(WORD_BYTES, "little") for x in ws)
                if len(data) > region["bytes"]:
                    raise LayoutError(f"region {region['name']}: {len(data)} bytes encoded, "
                                      f"{region['bytes']} in the layout")  # fmt: skip
                h = handles[region["channel"]]
                h.seek(region["offset"])
                h.write(data)
            if shift is not None:
                shifts[item.regions[0]["offset"] // WORD_BYTES] = shift
            t4 = time.perf_counter()
            for k, a, b in (("read", t0, t1), ("compress", t1, t2), ("encode", t2, t3),
                            ("write", t3, t4)):  # fmt: skip
                result.seconds[k] += b - a
            result.weights += w.size
            result.tensors += 1
            if progress is not None:
                progress(result.tensors)
            del w, comps, words
    finally:
        for h in handles:
            h.close()
    result.images = files
    if shifts:
        rom = layout_path.parent / doc["norm_descriptors"]["rom"]
        try:
            text = rom.read_text()
        except OSError as err:
            raise PackError(f"{rom}: cannot read the design's norm descriptors: {err}") from err
        result.norm_rom = out / rom.name
        fields = doc["norm_descriptors"]["fields"]
        result.norm_rom.write_text(patch_norm_rom(text, fields, shifts))
    return result


def read_images(out: Path, doc: dict) -> dict[int, dict[int, int]]:
    """Packed images in the simulator's {channel: {word: int}} form (absent words = 0)."""
    image: dict[int, dict[int, int]] = {}
    for c in range(doc["channels"]):
        data = (out / doc["images"]["file"].format(c)).read_bytes()
        words = np.frombuffer(data[: len(data) // WORD_BYTES * WORD_BYTES], dtype=np.uint8)
        words = words.reshape(-1, WORD_BYTES)
        for i in np.flatnonzero(words.any(axis=1)):
            image.setdefault(c, {})[int(i)] = int.from_bytes(words[i].tobytes(), "little")
    return image
