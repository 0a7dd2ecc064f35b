"""Accuracy of compression on the tiny default model: fp32 vs fake-quant vs integer golden.

Run: ``python -m accllm.numerics.accuracy_report [--out results/accuracy.json]``.

For each variant (MHA / GQA) and each Λ setting (S=2, W=6: evictions happen within the 24-token
sequences; S=2, W=254: no eviction, isolating the cost of 2:4 + W2A8KV4) it reports, per pair of
models, the mean and minimum per-position cosine similarity of the logits, the top-1 agreement
and the maximum absolute logit error. The fp32 reference is the HF model with full attention.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from accllm.models.default import build_model, default_config
from accllm.numerics.compress import compress_model
from accllm.numerics.fakequant import FakeQuantModel
from accllm.numerics.golden import GoldenModel

SEQ_LEN = 24
N_SEQS = 4


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    """Logit agreement of a vs reference b ([T, vocab] floats)."""
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return {
        "cosine_mean": float(cos.mean()),
        "cosine_min": float(cos.min()),
        "top1_agreement": float((a.argmax(-1) == b.argmax(-1)).mean()),
        "max_abs_error": float(np.abs(a - b).max()),
        "ref_logit_std": float(b.std()),
    }


def evaluate(gqa: bool, sinks: int, window: int, seed: int = 0) -> dict:
    """fp32 / fake-quant / integer logits on N_SEQS random sequences of SEQ_LEN tokens (the
    integer model runs prefill of 1 token then token-by-token decode through the Λ cache)."""
    model = build_model(default_config(gqa=gqa), seed=seed)
    cm = compress_model(model)
    fq = FakeQuantModel(cm, sinks, window)
    golden = GoldenModel(cm, sinks, window)
    rng = np.random.default_rng(seed + 100)
    fp, fqs, ints = [], [], []
    for _ in range(N_SEQS):
        ids = rng.integers(0, cm.vocab, SEQ_LEN)
        with torch.no_grad():
            fp.append(model(torch.tensor(ids)[None]).logits[0].double().numpy())
            fqs.append(fq(ids).numpy())
        ints.append(golden.decode_logits(ids) / 2.0**16)
    fp, fqs, ints = (np.concatenate(x) for x in (fp, fqs, ints))
    return {
        "model": "gqa" if gqa else "mha",
        "sinks": sinks,
        "window": window,
        "positions": int(fp.shape[0]),
        "fakequant_vs_fp32": compare(fqs, fp),
        "integer_vs_fp32": compare(ints, fp),
        "integer_vs_fakequant": compare(ints, fqs),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/accuracy.json", help="JSON output path")
    args = ap.parse_args(argv)
    runs = [evaluate(g, s, w) for g in (False, True) for s, w in ((2, 6), (2, 254))]
    for r in runs:
        print(f"{r['model']} S={r['sinks']} W={r['window']} ({r['positions']} positions)")
        for pair in ("fakequant_vs_fp32", "integer_vs_fp32", "integer_vs_fakequant"):
            m = r[pair]
            print(
                f"  {pair:22s} cos mean {m['cosine_mean']:.5f} min {m['cosine_min']:.5f}"
                f"  top1 {m['top1_agreement']:.3f}  max|err| {m['max_abs_error']:.4f}"
                f"  (ref std {m['ref_logit_std']:.3f})"
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seq_len": SEQ_LEN, "sequences": N_SEQS, "runs": runs}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
