"""The checked-in lookup-table ROMs equal a fresh rendering of the numerics contract's tables."""

from __future__ import annotations

import re

from accllm.numerics import contract
from accllm.rtl_lib import rom_gen


def test_roms_are_up_to_date():
    stale = [r.name for r in rom_gen.stale()]
    assert not stale, f"regenerate with `python -m accllm.rtl_lib.rom_gen`: {stale}"


def test_sigmoid_rom_pairs_hold_both_interpolation_points():
    """Parse the generated Verilog (not the generator's list) and rebuild the contract's table."""
    text = (rom_gen.RTL_DIR / "sigmoid_rom.sv").read_text()
    entries = {
        int(a): int(v, 16) for a, v in re.findall(r"10'd(\d+): data <= 25'h([0-9a-f]+);", text)
    }
    lut = contract.sigmoid_lut()
    assert len(entries) == len(lut) - 1
    for i, word in entries.items():
        assert word & 0xFFFF == lut[i]
        assert (word & 0xFFFF) + (word >> 16) == lut[i + 1]
