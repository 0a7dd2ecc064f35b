"""The `device` backend's transport, against a stand-in for pynq and a card.

No card or XRT is reachable here, so `FakeCard` plays pynq's part at the register level: it
loads the "xclbin", allocates buffers in named HBM banks, and models the kernel's host port
(host_addr / host_wdata_* / host_we write activation words, host_rdata_* read them) and its
ap_ctrl_hs register. On `ap_start` it checks what a real kernel needs at that moment (every
buffer synced to the card, each master's pointer register holding its buffer's address, the
fetch-program base of the program written, the RoPE tables written) and writes logits rows in
which token t at position p scores highest at id (t + 3 p) mod vocab, so a test sees whether the
backend loaded the ids at the right word, wrote the right position and read the right rows back.
The register protocol itself is the one the simulated kernel passes (`test_generate.py`).
"""

from __future__ import annotations

import importlib.machinery
import re
import shutil
import sys
import types

import numpy as np
import pytest

from accllm.backend.sim.model_run import CHUNK

AP_START, AP_DONE = 1, 2


class FakeBuffer(np.ndarray):
    pass


class FakeCard:
    def __init__(self, design, fail: dict[str, int] | None = None):
        self.design = design
        self.regs = design.job.regmap
        self.names = {off: name for name, off in self.regs.items()}
        self.values: dict[int, int] = {}
        self.act: dict[int, int] = {}
        self.buffers: list[FakeBuffer] = []
        self.rope_writes = 0
        self.started = False
        self.fail = fail or {}
        m = design.map
        self.sched_of = {base: s for s, base in m.bases.items()}

    # --- pynq's module surface -------------------------------------------------------------
    def module(self) -> types.ModuleType:
        mod = types.ModuleType("pynq")
        mod.__spec__ = importlib.machinery.ModuleSpec("pynq", None)
        card = self

        class Overlay:
            def __init__(self, path):
                card.xclbin = path
                self.accllm_kernel_1 = card
                self.mem_dict = {f"HBM[{c}]": {} for c in range(32)}
                for c in range(32):
                    setattr(self, f"HBM{c}", ("bank", c))

        def allocate(shape, dtype, target):
            buf = np.zeros(shape, dtype=dtype).view(FakeBuffer)
            buf.bank = target
            buf.device_address = (0x10 + target[1]) << 28  # distinct per bank, > 32 bits
            buf.synced = None
            buf.sync_to_device = lambda b=buf: setattr(b, "synced", np.array(b))
            buf.freebuffer = lambda b=buf: setattr(b, "freed", True)
            card.buffers.append(buf)
            return buf

        mod.Overlay, mod.allocate = Overlay, allocate
        return mod

    # --- the kernel's registers (pynq IP read/write) ---------------------------------------
    def reg(self, name: str) -> int:
        return self.values.get(self.regs[name], 0)

    def write(self, offset: int, value: int) -> None:
        assert 0 <= value < 1 << 32, f"register {offset:#x}: {value} is not a 32-bit value"
        name = self.names.get(offset, f"{offset:#x}")
        self.values[offset] = value
        if name == "host_we" and value:
            lanes = sorted(n for n in self.regs if n.startswith("host_wdata_"))
            word = sum(self.reg(f"host_wdata_{i}") << (32 * i) for i in range(len(lanes)))
            self.act[self.reg("host_addr")] = word
        elif name == "rope_tbl_we" and value:
            self.rope_writes += 1
        elif offset == 0 and value & AP_START:
            self.start()

    def read(self, offset: int) -> int:
        name = self.names.get(offset, "")
        if offset == 0:
            done, self.started = self.started, False
            return AP_DONE if done else 0
        if name.startswith("host_rdata_"):
            return self.act.get(self.reg("host_addr"), 0) >> (32 * int(name[11:])) & 0xFFFFFFFF
        if name == "fetch_idle":
            return 1
        if name in self.fail:
            return self.fail[name]
        return 0 if name in self.regs else self.values.get(offset, 0)

    def start(self) -> None:
        d, m = self.design, self.design.map
        assert self.buffers and all(b.synced is not None for b in self.buffers), "buffers unsynced"
        for master in d.spec.masters:
            ptr = self.reg(master.pointer) | self.values.get(self.regs[master.pointer] + 4, 0) << 32
            owner = [b for b in self.buffers if b.bank == ("bank", master.channel)]
            assert len(owner) == 1 and ptr == owner[0].device_address, master.name
        assert self.rope_writes == len(d.job.rope_tables) > 0, "RoPE tables not written first"
        base = self.reg("prog_base")
        assert self.reg("fetch_base") == d.job.fetch_bases[base]
        sched, pos = self.sched_of[base], self.reg("pos")
        for t in range(m.chunk if sched == CHUNK else 1):
            token = self.act.get(m.ids_word[sched] + t // 8, 0) >> (32 * (t % 8)) & 0xFFFFFFFF
            row = np.full(m.vocab, -5, dtype=np.int64)
            row[(token + 3 * (pos + t)) % m.vocab] = 1000
            for w in range(m.row_words):
                lanes = row[8 * w : 8 * w + 8] & 0xFFFFFFFF
                self.act[m.logits_word[sched] + t * m.row_words + w] = sum(
                    int(v) << (32 * i) for i, v in enumerate(lanes)
                )
        self.started = True


@pytest.fixture
def card_build(tiny_build, tmp_path):
    build = tmp_path / "build"
    shutil.copytree(tiny_build, build)
    (build / "vitis").mkdir(exist_ok=True)
    (build / "vitis" / "accllm.xclbin").write_bytes(b"xclbin2\0")
    return build


def open_on(card_build, monkeypatch, fail=None):
    import accllm.runtime as rt
    from accllm.runtime.backends.kernel_design import load_kernel_design
    from accllm.runtime.build_dir import BuildDir

    card = FakeCard(load_kernel_design(BuildDir.open(card_build)), fail)
    monkeypatch.setitem(sys.modules, "pynq", card.module())
    return card, rt.open(card_build, backend="device")


def test_device_backend_runs_the_register_protocol_on_a_card(card_build, monkeypatch):
    from accllm.backend.vitis.package import link_cfg

    card, session = open_on(card_build, monkeypatch)
    d = card.design
    assert card.xclbin == str(card_build / "vitis" / "accllm.xclbin")
    # one buffer per channel, in the bank the v++ link configuration maps its master to
    sp = dict(
        re.fullmatch(r"sp=accllm_kernel_1\.(\w+):HBM\[(\d+)\]", line).groups()
        for line in link_cfg(d.spec, d.clock_mhz).splitlines()
        if line.startswith("sp=")
    )
    assert sp and set(sp) == {m.name for m in d.spec.masters}
    banks = {b.bank[1]: b for b in card.buffers}
    assert sorted(banks) == sorted({int(bank) for bank in sp.values()})
    for c, buf in banks.items():  # holding the channel's image (weights, tables) and room for KV
        for addr, word in d.job.hbm.get(c, {}).items():
            assert int.from_bytes(bytes(buf.synced[addr * 32 : addr * 32 + 32]), "little") == word
        assert len(buf) == d.extents[c] >= max(a + 1 for a in d.job.hbm.get(c, {0: 0})) * 32
    prompt = [5, 9, 200, 17, 3, 44]  # a 4-token chunk, then single decode steps
    logits = session.backend.run(np.array(prompt), 0).logits
    assert logits.shape == (len(prompt), d.map.vocab)
    want = [(tok + 3 * pos) % d.map.vocab for pos, tok in enumerate(prompt)]
    assert list(logits.argmax(axis=1)) == want
    step = session.backend.run(np.array([77]), len(prompt)).logits
    assert step.argmax() == (77 + 3 * len(prompt)) % d.map.vocab
    session.close()
    assert all(getattr(b, "freed", False) for b in card.buffers)


def test_device_backend_reports_a_kernel_error_by_register(card_build, monkeypatch):
    from accllm.runtime.errors import SessionError

    card, session = open_on(card_build, monkeypatch, fail={"error": 1, "err_code": 5, "err_pc": 7})
    with pytest.raises(SessionError, match="sequencer error code 5 at pc 7 of the program at"):
        session.backend.run(np.array([1]), 0)
    card.fail = {"norm_err": 1}
    with pytest.raises(SessionError, match="norm_err raised in the program at"):
        session.backend.run(np.array([1]), 0)


def test_device_backend_without_pynq_names_what_is_missing(card_build, monkeypatch):
    import accllm.runtime as rt
    from accllm.runtime.errors import SessionError

    monkeypatch.setitem(sys.modules, "pynq", None)  # an import of pynq fails
    monkeypatch.setattr(
        "accllm.runtime.backends.device.xrt_bindings", lambda: "pyxrt"
    )  # only pyxrt installed
    with pytest.raises(SessionError, match="needs pynq.*pyxrt is installed but binds no register"):
        rt.open(card_build, backend="device")
