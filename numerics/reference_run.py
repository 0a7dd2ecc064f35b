"""The reference run of `accllm compile`: what every later stage's output is checked against.

On a deterministic prompt it compresses the model with the numerics contract, runs the integer
golden model (prefill, then greedy decode through the Λ KV cache) and measures the cost of
compression against the fp32 model and the fake-quant model on the same token sequence.  The
integers are saved (`reference.npz`) for the bit-exact checks of the IR, HLS and RTL levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from accllm.numerics import contract as ct
from accllm.numerics.accuracy_report import compare
from accllm.numerics.compress import compress_model
from accllm.numerics.fakequant import FakeQuantModel
from accllm.numerics.golden import GoldenModel


@dataclass
class ReferenceResult:
    prompt: np.ndarray  # [P] token ids
    tokens: np.ndarray  # [N] greedily decoded ids
    prefill_logits: np.ndarray  # [P, vocab] integers, value * 2^-logit_frac
    decode_logits: np.ndarray  # [N, vocab] integers
    sinks: int
    window: int
    kv_bytes: int  # Λ cache memory (constant once S + W tokens are cached)
    accuracy: dict

    def summary(self) -> dict:
        return {
            "prompt": self.prompt.tolist(),
            "tokens": self.tokens.tolist(),
            "sinks": self.sinks,
            "window": self.window,
            "kv_cache_bytes": self.kv_bytes,
            "accuracy": self.accuracy,
        }

    def describe(self) -> list[str]:
        a = self.accuracy
        return [
            f"prompt ({len(self.prompt)} tokens): {self.prompt.tolist()}",
            f"integer golden model, Λ cache S={self.sinks} W={self.window} "
            f"({self.kv_bytes} bytes): decoded {len(self.tokens)} tokens {self.tokens.tolist()}",
            "logits over the whole sequence: "
            f"integer vs fake-quant cos {a['integer_vs_fakequant']['cosine_mean']:.5f} "
            f"top-1 {a['integer_vs_fakequant']['top1_agreement']:.3f}; "
            f"fake-quant vs fp32 cos {a['fakequant_vs_fp32']['cosine_mean']:.5f} "
            f"top-1 {a['fakequant_vs_fp32']['top1_agreement']:.3f}",
        ]


def run_reference(
    model,
    prompt_len: int,
    decode_steps: int,
    sinks: int,
    window: int,
    out_file: Path | None = None,
    seed: int = 1234,
) -> ReferenceResult:
    """Compress `model`, prefill a seeded random prompt and decode `decode_steps` tokens."""
    if prompt_len < 1 or decode_steps < 0:
        raise ValueError("prompt length must be >= 1 and decode steps >= 0")
    cm = compress_model(model)
    prompt = np.random.default_rng(seed).integers(0, cm.vocab, prompt_len)
    golden = GoldenModel(cm, sinks, window)
    prefill_logits, _ = golden.prefill(prompt)
    tokens, decode_logits = golden.generate(prompt, decode_steps)

    # Accuracy on the whole sequence: integer (teacher-forced through the same cache rule) vs the
    # fake-quant and fp32 models.
    seq = np.concatenate([prompt, tokens])
    scale = 2.0**-ct.NUMERICS.logit_frac
    ints = golden.decode_logits(seq) * scale
    with torch.no_grad():
        fp = model(torch.tensor(seq)[None]).logits[0].double().numpy()
        fq = FakeQuantModel(cm, sinks, window)(seq).numpy()
    accuracy = {
        "integer_vs_fakequant": compare(ints, fq),
        "fakequant_vs_fp32": compare(fq, fp),
        "integer_vs_fp32": compare(ints, fp),
    }
    result = ReferenceResult(
        prompt=prompt,
        tokens=tokens,
        prefill_logits=prefill_logits,
        decode_logits=decode_logits,
        sinks=sinks,
        window=window,
        kv_bytes=golden.new_cache().nbytes,
        accuracy=accuracy,
    )
    if out_file is not None:
        np.savez(
            out_file,
            prompt=prompt,
            tokens=tokens,
            prefill_logits=prefill_logits,
            decode_logits=decode_logits,
        )
    return result
