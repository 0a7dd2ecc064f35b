"""Hardware from shapes alone, weights as data (issue #14 items 1 and 2).

A tiny checkpoint is compiled twice: the ordinary flow (weights compressed by the passes,
HBM images by the simulator's builder) and `--config-only` (no weight read). The config-only
design must be the same hardware, its hbm_layout.json must name every region of the IR, and
`accllm pack-weights` on a bf16, sharded copy of the checkpoint must give byte-for-byte the
simulator's HBM images and the ordinary flow's norm descriptor ROM (the one weight-dependent
design field: one norm's gains are scaled so its gain shift differs from the unit-gain
default the config-only design starts with).
"""

from __future__ import annotations

import filecmp
import json

import pytest
import torch

from accllm.models.default import build_model, default_config, save_checkpoint
from accllm.tools.accllm_driver import main


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    from accllm.backend.sim.hbm_image import hbm_images
    from accllm.interpreter.runner import load_module

    tmp = tmp_path_factory.mktemp("pack")
    model = build_model(default_config(gqa=True), seed=4)
    with torch.no_grad():
        model.model.layers[0].input_layernorm.weight.mul_(4.0)  # gain shift 11 -> 9
        for p in model.parameters():  # bf16-exact values: the bf16 copy holds the same model
            p.copy_(p.to(torch.bfloat16).to(torch.float32))
    ckpt = save_checkpoint(model, tmp / "fp32")
    bf16 = tmp / "bf16"
    model.to(torch.bfloat16).save_pretrained(bf16, safe_serialization=True, max_shard_size="60KB")
    assert (bf16 / "model.safetensors.index.json").is_file()
    full, shapes = tmp / "full", tmp / "shapes"
    common = ["--sink", "2", "--window", "4", "--chunk", "4", "--stop-after", "emit"]
    assert main(["compile", str(ckpt), "-o", str(full), *common]) == 0
    args = [str(ckpt / "config.json"), "--config-only", "-o", str(shapes), *common]
    assert main(["compile", *args]) == 0
    images = hbm_images(load_module(full / "model.accel.mlir"))
    return {"ckpt": ckpt, "bf16": bf16, "full": full, "shapes": shapes, "images": images}


def test_config_only_design_is_the_same_hardware(designs):
    full, shapes = designs["full"] / "verilog", designs["shapes"] / "verilog"
    files = sorted(p.name for p in full.iterdir())
    assert files == sorted(p.name for p in shapes.iterdir())
    _, diff, errors = filecmp.cmpfiles(full, shapes, files, shallow=False)
    # only the norm descriptors' gain shifts depend on the weights (layer 0's gains x4)
    assert diff == ["norm_desc.hex"] and not errors


def test_layout_names_every_region_of_the_ir(designs):
    from accllm.dialects import accel
    from accllm.interpreter.runner import load_module

    module = load_module(designs["shapes"] / "model.accel.mlir")
    ir = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    doc = json.loads((designs["shapes"] / "hbm_layout.json").read_text())
    assert {r["name"] for r in doc["regions"]} == set(ir)
    for r in doc["regions"]:
        op = ir[r["name"]]
        assert (r["channel"], r["offset"], r["bytes"], r["stripes"]) == (
            op.channel.value.data,
            op.offset.value.data,
            op.bytes.value.data,
            len(op.channels()),
        )
        assert r["kind"] == op.kind.data
        if r["kind"] != "kv":
            assert r["tensor"] and r["format"] != "kv4_rings" and r["shape"]
    tensors = {r["tensor"] for r in doc["regions"] if "tensor" in r}
    assert len(tensors) == 2 * 7 + 2 * 2 + 3  # 7 linears and 2 norms per layer, embed/norm/head
    ends = [0] * doc["channels"]
    for r in doc["regions"]:
        for c in range(r["channel"], r["channel"] + r["stripes"]):
            ends[c] = max(ends[c], r["offset"] + r["bytes"])
    assert doc["images"]["bytes"] == ends


def test_pack_weights_gives_the_simulators_images(designs, tmp_path, capsys):
    from accllm.backend.weight_packer import read_images

    layout = designs["shapes"] / "hbm_layout.json"
    out = tmp_path / "hbm"
    args = [str(designs["bf16"]), "--layout", str(layout), "-o", str(out)]
    assert main(["pack-weights", *args]) == 0
    assert "packed 21 tensors" in capsys.readouterr().out
    assert read_images(out, json.loads(layout.read_text())) == designs["images"]
    rom = (designs["full"] / "verilog" / "norm_desc.hex").read_text()
    assert (out / "norm_desc.hex").read_text() == rom


def test_pack_weights_refuses_a_checkpoint_of_another_shape(designs, tmp_path, capsys):
    other = save_checkpoint(build_model(default_config(gqa=False), seed=1), tmp_path / "mha")
    layout = designs["shapes"] / "hbm_layout.json"
    code = main(["pack-weights", str(other), "--layout", str(layout), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "tensor model.layers.0.self_attn.k_proj.weight has shape [64, 64]" in err
    assert "expects [32, 64]" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "hbm_c0.bin").exists()  # refused before writing


def test_pack_weights_names_a_missing_tensor(designs, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text((designs["ckpt"] / "config.json").read_text())
    tensors = load_file(designs["ckpt"] / "model.safetensors")
    del tensors["model.norm.weight"]
    save_file(tensors, ckpt / "model.safetensors", metadata={"format": "pt"})
    layout = designs["shapes"] / "hbm_layout.json"
    assert main(["pack-weights", str(ckpt), "--layout", str(layout), "-o", str(tmp_path / "o")])
    assert "tensor model.norm.weight (the layout's norm_gain region" in capsys.readouterr().err
