"""The `device` backend: an Alveo card through XRT (pyxrt, or pynq on top of it).

Kept thin on purpose and honest about what is missing, in the order a user meets it:

1. XRT's Python bindings: `pyxrt` (from an XRT install: `source /opt/xilinx/xrt/setup.sh`) or
   `pynq` (`pip install pynq`, which needs XRT too); neither is importable here, and the error
   says so;
2. a kernel binary, `BUILD_DIR/vitis/accllm.xclbin`: `accllm compile --target u280` writes the
   RTL kernel packaging (docs/vitis.md) and `BUILD_DIR/vitis/build.sh` builds it with Vitis,
   which is not on these machines;
3. driving the kernel's registers (regmap.json) through pyxrt is not written yet: exit code 2
   (not implemented), issue #17 item 1; `backend/sim/kernel_tb.py` is the register protocol it
   has to follow (the `sim` backend runs it against the simulated kernel).

Everything else a card session needs (HBM images, token-id words, logits rows, sampling,
positions, timing) is the `sim` backend's and the session's, to be shared once 3 exists.
"""

from __future__ import annotations

import importlib.util

from accllm.runtime.errors import SessionError

XCLBIN = "vitis/accllm.xclbin"


def xrt_bindings() -> str | None:
    """The name of an importable XRT binding ('pyxrt' or 'pynq'), or None."""
    for name in ("pyxrt", "pynq"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class DeviceBackend:
    name = "device"

    def __init__(self, build):
        binding = xrt_bindings()
        if binding is None:
            raise SessionError(
                "the device backend needs XRT's Python bindings: neither 'pyxrt' (XRT install: "
                "source /opt/xilinx/xrt/setup.sh) nor 'pynq' (pip install pynq) is importable"
            )
        xclbin = build.path / XCLBIN
        if not xclbin.is_file():
            how = (
                f"build it with {build.path / 'vitis' / 'build.sh'} (needs Vitis)"
                if (build.path / "vitis" / "build.sh").is_file()
                else "compile for a card (accllm compile --target u280), then run its "
                "vitis/build.sh (needs Vitis)"
            )
            raise SessionError(f"{xclbin}: no kernel binary: {how}")
        raise SessionError(
            f"{xclbin}: driving the kernel's registers through {binding} is not implemented "
            "yet [#17 item 1]",
            exit_code=2,
        )
