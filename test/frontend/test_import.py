"""The frontend end to end: import HF Llama models, run the IR with `accllm run`, compare with
PyTorch's fp32 logits; config-only import of Llama-2-7B; unsupported ops are located errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from accllm.frontend.errors import FrontendError
from accllm.frontend.import_model import import_config, import_model
from accllm.models.default import build_model, default_config, save_checkpoint

BIN = Path(sys.executable).parent
ACCLLM = shutil.which("accllm", path=str(BIN)) or "accllm"
SEQ_LEN = 8
REL_TOL = 1e-4

# Llama-2-7B's config.json (meta-llama/Llama-2-7b-hf), written out: no download.
LLAMA2_7B_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-05,
    "rope_scaling": None,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
}


def accllm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ACCLLM, *args], capture_output=True, text=True, timeout=300)


def pytorch_logits(model, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(input_ids=torch.from_numpy(ids)).logits.numpy()


def run_ir(ir: Path, ids: np.ndarray, tmp: Path) -> np.ndarray:
    np.save(tmp / "ids.npy", ids)
    out = tmp / "run"
    r = accllm(
        "run", str(ir), "--entry", "forward", "--inputs", str(tmp / "ids.npy"), "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    return np.load(out / "out0.npy")


def token_ids(vocab: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, size=(1, SEQ_LEN), dtype=np.int64)


def test_import_mha_inline_matches_pytorch(tmp_path):
    """Tiny MHA Llama (seed 0) imported as a model object with inline weights."""
    model = build_model(default_config(gqa=False), seed=0)
    result = import_model(model, tmp_path / "mha.mlir", weights="inline", seq_len=SEQ_LEN)
    assert result.params_file is None and "#smla.param" not in result.text
    assert result.text.count("lattn.prefill") == 2
    assert "num_kv_heads = 4" in result.text
    ids = token_ids(model.config.vocab_size)
    got = run_ir(tmp_path / "mha.mlir", ids, tmp_path)
    want = pytorch_logits(model, ids)
    assert got.shape == want.shape == (1, SEQ_LEN, model.config.vocab_size)
    assert np.abs(got - want).max() <= REL_TOL * np.abs(want).max()


def test_import_gqa_checkpoint_external_matches_pytorch(tmp_path):
    """Tiny GQA Llama saved with save_pretrained, imported by the CLI with external weights."""
    model = build_model(default_config(gqa=True), seed=0)
    save_checkpoint(model, tmp_path / "ckpt")
    ir = tmp_path / "out" / "gqa.mlir"
    r = accllm("import", str(tmp_path / "ckpt"), "-o", str(ir), "--weights", "external")
    assert r.returncode == 0, r.stderr
    assert "imported 2 layers" in r.stdout
    text = ir.read_text()
    assert (ir.parent / "gqa.safetensors").is_file()
    assert '#smla.param<"gqa.safetensors", "model.layers.1.self_attn.k_proj.weight">' in text
    assert text.count("num_kv_heads = 2") == 2 and "smla.weight dense<" not in text
    ids = token_ids(model.config.vocab_size, seed=2)
    got = run_ir(ir, ids, tmp_path)
    want = pytorch_logits(model, ids)
    assert np.abs(got - want).max() <= REL_TOL * np.abs(want).max()


def test_config_only_llama2_7b(tmp_path):
    """Llama-2-7B from its config alone: 32 layers, no weights allocated or written."""
    (tmp_path / "config.json").write_text(json.dumps(LLAMA2_7B_CONFIG))
    t0 = time.perf_counter()
    result = import_config(tmp_path, tmp_path / "llama2_7b.mlir", seq_len=SEQ_LEN)
    seconds = time.perf_counter() - t0
    print(f"\nconfig-only import of Llama-2-7B: {seconds:.2f}s ({result.seconds})")
    text = result.text
    assert result.num_layers == 32 and result.weights == "none"
    assert text.count("lattn.prefill") == 32
    assert text.count("num_heads = 32 : i64, num_kv_heads = 32 : i64, causal") == 32
    assert text.count("smla.linear") == 32 * 7
    assert text.count("smla.rmsnorm") == 2 * 32 + 1
    assert text.count("smla.rope") == 2 * 32
    assert text.count("smla.lm_head") == 1
    assert "tensor<11008x4096xf32>" in text and "tensor<1x8x32000xf32>" in text
    assert "smla.weight dense<" not in text
    assert not list(tmp_path.glob("*.safetensors"))


def test_unsupported_op_names_aten_op_and_source(tmp_path):
    """A GELU MLP (not a supported decoder) fails at aten.gelu, located in the model source."""
    config = default_config()
    config.hidden_act = "gelu"
    model = build_model(config, seed=0)
    with pytest.raises(FrontendError) as err:
        import_model(model, tmp_path / "gelu.mlir", seq_len=SEQ_LEN)
    message = str(err.value)
    assert "unsupported aten op 'aten.gelu'" in message
    assert "/transformers/" in message and ".py:" in message
    assert not (tmp_path / "gelu.mlir").exists()


def test_unsupported_model_class_is_an_error():
    with pytest.raises(FrontendError, match="not supported"):
        import_model(torch.nn.Linear(2, 2))
