"""The port lists the structural emitter reads from the primitives' headers
(`rtl_lib/sv_header.py`) equal what Verilator elaborates from the same sources."""

from __future__ import annotations

import json
import subprocess

import pytest

from accllm.rtl_lib import primitives, sim
from accllm.rtl_lib.sv_header import HeaderError, clog2, eval_const


def verilator_ports(prim: primitives.Primitive, params: dict[str, int], work) -> list:
    """(name, is_input, width) of the top's ports as Verilator elaborates them (--json-only)."""
    cmd = [sim.verilator_executable(), "--json-only", "-Wno-fatal", "--top-module", prim.top]
    cmd += [f"-G{k}={v}" for k, v in params.items()]
    cmd += ["--Mdir", str(work)] + [str(p) for p in prim.source_paths()]
    subprocess.run(cmd, check=True, capture_output=True, cwd=work)
    tree = json.loads((work / f"V{prim.top}.tree.json").read_text())
    nodes: dict[str, dict] = {}

    def walk(n):
        if isinstance(n, dict):
            if "addr" in n:
                nodes[n["addr"]] = n
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(tree)
    top = next(m for m in tree["modulesp"] if m["origName"] == prim.top)
    out = []
    for var in top["stmtsp"]:
        if var.get("type") == "VAR" and var.get("direction") in ("INPUT", "OUTPUT"):
            rng = nodes[var["dtypep"]].get("range")
            hi, lo = (int(x) for x in rng.split(":")) if rng else (0, 0)
            out.append((var["name"], var["direction"] == "INPUT", hi - lo + 1))
    return out


# Non-default parameters exercise width expressions ($clog2, ?:, products of parameters).
CASES = [(name, {}) for name in sorted(primitives.PRIMITIVES)] + [
    ("rope_cmd_unit", {"HALF": 32, "MAX_POS": 8192}),
    ("stream_linear_unit", {"CH": 3, "LANES": 5, "DW": 512}),
    ("rom", {"WIDTH": 256, "DEPTH": 40}),
    ("stream_attention_unit", {"PIPES": 1, "HEAD_DIM": 128, "DW": 512, "KV_HEADS": 3}),
]


@pytest.mark.rtl
@pytest.mark.parametrize(("name", "params"), CASES, ids=lambda c: str(c))
def test_header_ports_match_verilator(name, params, tmp_path):
    prim = primitives.PRIMITIVES[name]
    assert prim.ports(params) == verilator_ports(prim, params, tmp_path)


def test_eval_const():
    env = {"A": 4100, "H": 64, "W": 6}
    assert eval_const("$clog2((A > 4096 ? (A + 63) / 64 : 64) * H)-1", env) == 12
    assert eval_const("W*256-1", env) == 1535
    assert eval_const("1 << W", env) == 64
    assert eval_const("-3 + 4 * 2", env) == 5
    assert [clog2(n) for n in (0, 1, 2, 3, 4, 5)] == [0, 0, 1, 2, 2, 3]
    with pytest.raises(HeaderError, match="unknown name 'B'"):
        eval_const("B + 1", env)
    with pytest.raises(HeaderError, match="unexpected"):
        eval_const("A )", env)
