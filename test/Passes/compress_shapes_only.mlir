// The compression passes with shapes_only=true (a config-only compile): no weight is read (the
// archive named here does not exist), every weight gets its compressed type and keeps its
// checkpoint reference: 2:4 W2 with the group from contract.group_size_for (K=96: 32), the LM
// head int8 rows, the embedding A8 rows, the RMSNorm gains 16-bit with the unit-gain shift
// (gamma = 1, H = 96: sqrt(96) * 2^11 <= 32767 < sqrt(96) * 2^12, so 11).
// RUN: accllm-opt %s -p 'accllm-prune-2-4{shapes_only=true},accllm-quantize{shapes_only=true}' | FileCheck %s
// RUN: not accllm-opt %s -p 'accllm-prune-2-4{method=wanda shapes_only=true}' 2>&1 | FileCheck %s --check-prefix=WANDA
// WANDA: error: accllm-prune-2-4: shapes_only prunes by magnitude only (method 'wanda' needs the weights and calibration data)

// CHECK-LABEL: func.func @f
func.func @f(%ids: tensor<1x2xi64>) -> tensor<1x2x50xf32> {
  // CHECK-DAG: smla.weight #smla.param<"absent.safetensors", "embed"> : !smla.qtensor<50x96xsi8, per_token>
  // CHECK-DAG: smla.weight #smla.param<"absent.safetensors", "norm"> : !smla.qtensor<96xsi16, frac=11>
  // CHECK-DAG: smla.weight #smla.param<"absent.safetensors", "q"> : !smla.qweight<96x96, ui2, group=32, sparse=2:4>
  // CHECK-DAG: smla.weight #smla.param<"absent.safetensors", "head"> : !smla.qweight<50x96, si8>
  // CHECK-NOT: xf32>
  %e = smla.weight #smla.param<"absent.safetensors", "embed"> : tensor<50x96xf32>
  %x = smla.embedding %ids, %e : tensor<1x2xi64>, tensor<50x96xf32> -> tensor<1x2x96xf32>
  %g = smla.weight #smla.param<"absent.safetensors", "norm"> : tensor<96xf32>
  %n = smla.rmsnorm %x, %g epsilon = 1.0e-05 : tensor<1x2x96xf32>, tensor<96xf32> -> tensor<1x2x96xf32>
  %w = smla.weight #smla.param<"absent.safetensors", "q"> : tensor<96x96xf32>
  %y = smla.linear %n, %w : tensor<1x2x96xf32>, tensor<96x96xf32> -> tensor<1x2x96xf32>
  %h = smla.weight #smla.param<"absent.safetensors", "head"> : tensor<50x96xf32>
  %l = smla.lm_head %y, %h : tensor<1x2x96xf32>, tensor<50x96xf32> -> tensor<1x2x50xf32>
  func.return %l : tensor<1x2x50xf32>
}
