"""Print `name dtype shape` of every tensor of a safetensors file, sorted by name."""

import sys

from safetensors import safe_open

with safe_open(sys.argv[1], framework="np") as f:
    for name in sorted(f.keys()):
        t = f.get_tensor(name)
        print(name, t.dtype, "x".join(map(str, t.shape)))
