"""Write a safetensors file of seeded random float32 tensors: make_params.py OUT name=AxB ...

Norm gains (names ending in "norm") are 1 + N(0, 0.1); everything else N(0, 1/sqrt(last dim)).
"""

import sys

import numpy as np
from safetensors.numpy import save_file

out, specs = sys.argv[1], sys.argv[2:]
rng = np.random.default_rng(0)
tensors = {}
for spec in specs:
    name, shape = spec.split("=")
    dims = tuple(int(d) for d in shape.split("x"))
    if name.endswith("norm"):
        tensors[name] = (1 + 0.1 * rng.standard_normal(dims)).astype(np.float32)
    else:
        tensors[name] = (rng.standard_normal(dims) / np.sqrt(dims[-1])).astype(np.float32)
save_file(tensors, out)
