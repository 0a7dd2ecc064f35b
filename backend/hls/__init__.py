"""HLS C++ backend: Vitis-style C++ with pragmas from IR attributes, verified by C simulation."""
