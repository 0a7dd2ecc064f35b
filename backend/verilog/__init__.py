"""IR-driven SystemVerilog emission for xDSL's hw/comb/seq netlists (legalise, then print)."""
