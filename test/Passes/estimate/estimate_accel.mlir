// accllm-estimate on the hardware level: the schedules as lowered for the sim target; an
// estimate for another target than the one lowered for is an error.
// RUN: accllm-opt %S/../accel/lower_to_accel.mlir -p 'lower-to-accel{target="sim"},accllm-estimate{target="sim" contexts="1,16" prompts="4"}' | FileCheck %s
// RUN: not accllm-opt %S/../accel/lower_to_accel.mlir -p 'lower-to-accel{target="sim"},accllm-estimate{target="u280"}' 2>&1 | FileCheck %s --check-prefix=MISMATCH

// CHECK: accllm.estimate = {target = "sim", decode_tokens_per_s = {{.*}}, decode_context = 16 : i64
// CHECK: accel.engine @engine
// MISMATCH: accllm-estimate: the module was lowered for target 'sim', estimating for 'u280'
