// RUN: accllm-opt -p convert-torch-to-accllm --split-input-file %s | FileCheck %s

// Embedding, RMSNorm (pow/sum/div/add/rsqrt/mul/mul, as torch-mlir decomposes HF's
// LlamaRMSNorm), and the logits linear as smla.lm_head.  Weights named by #smla.param stay
// outside the IR and leave the signature; the ids argument becomes a signless tensor.

// CHECK-LABEL: func.func @embed_norm_head(
// CHECK-SAME:  %[[IDS:[0-9a-z_]+]]: tensor<1x3xi64>) -> tensor<1x3x10xf32>
// CHECK-DAG:   %[[E:.*]] = smla.weight #smla.param<"w.safetensors", "model.embed_tokens.weight"> : tensor<10x4xf32>
// CHECK-DAG:   %[[G:.*]] = smla.weight dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK-DAG:   %[[H:.*]] = smla.weight #smla.param<"w.safetensors", "lm_head.weight"> : tensor<10x4xf32>
// CHECK:       %[[X:.*]] = smla.embedding %[[IDS]], %[[E]] : tensor<1x3xi64>, tensor<10x4xf32> -> tensor<1x3x4xf32>
// CHECK:       %[[N:.*]] = smla.rmsnorm %[[X]], %[[G]] epsilon = 1.000000e-05 : tensor<1x3x4xf32>, tensor<4xf32> -> tensor<1x3x4xf32>
// CHECK:       %[[L:.*]] = smla.lm_head %[[N]], %[[H]] : tensor<1x3x4xf32>, tensor<10x4xf32> -> tensor<1x3x10xf32>
// CHECK:       func.return %[[L]]
func.func @embed_norm_head(%ids: !torch.vtensor<[1,3],si64>,
    %emb: !torch.vtensor<[10,4],f32> {accllm.param = #smla.param<"w.safetensors", "model.embed_tokens.weight">},
    %head: !torch.vtensor<[10,4],f32> {accllm.param = #smla.param<"w.safetensors", "lm_head.weight">}) -> !torch.vtensor<[1,3,10],f32> {
  %none = torch.constant.none
  %true = torch.constant.bool true
  %false = torch.constant.bool false
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int4 = torch.constant.int 4
  %int-1 = torch.constant.int -1
  %eps = torch.constant.float 1.000000e-05
  %gamma = torch.vtensor.literal(dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>) : !torch.vtensor<[4],f32>
  %x = torch.aten.embedding %emb, %ids, %int-1, %false, %false : !torch.vtensor<[10,4],f32>, !torch.vtensor<[1,3],si64>, !torch.int, !torch.bool, !torch.bool -> !torch.vtensor<[1,3,4],f32>
  %sq = torch.aten.pow.Tensor_Scalar %x, %int2 : !torch.vtensor<[1,3,4],f32>, !torch.int -> !torch.vtensor<[1,3,4],f32>
  %dims = torch.prim.ListConstruct %int-1 : (!torch.int) -> !torch.list<int>
  %sum = torch.aten.sum.dim_IntList %sq, %dims, %true, %none : !torch.vtensor<[1,3,4],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[1,3,1],f32>
  %mean = torch.aten.div.Scalar %sum, %int4 : !torch.vtensor<[1,3,1],f32>, !torch.int -> !torch.vtensor<[1,3,1],f32>
  %me = torch.aten.add.Scalar %mean, %eps, %int1 : !torch.vtensor<[1,3,1],f32>, !torch.float, !torch.int -> !torch.vtensor<[1,3,1],f32>
  %r = torch.aten.rsqrt %me : !torch.vtensor<[1,3,1],f32> -> !torch.vtensor<[1,3,1],f32>
  %xn = torch.aten.mul.Tensor %x, %r : !torch.vtensor<[1,3,4],f32>, !torch.vtensor<[1,3,1],f32> -> !torch.vtensor<[1,3,4],f32>
  %y = torch.aten.mul.Tensor %gamma, %xn : !torch.vtensor<[4],f32>, !torch.vtensor<[1,3,4],f32> -> !torch.vtensor<[1,3,4],f32>
  %logits = torch.aten.linear %y, %head, %none : !torch.vtensor<[1,3,4],f32>, !torch.vtensor<[10,4],f32>, !torch.none -> !torch.vtensor<[1,3,10],f32>
  return %logits : !torch.vtensor<[1,3,10],f32>
}

// -----

// The MLP: SiLU(gate) * up is smla.swiglu; a linear with a bias (Qwen2's q/k/v) keeps it;
// RMSNorm written with mean.dim instead of sum/div.

// CHECK-LABEL: func.func @mlp(
// CHECK-SAME:  %[[X:[0-9a-z_]+]]: tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
// CHECK:       %[[N:.*]] = smla.rmsnorm %[[X]], %{{.*}} epsilon = 1.000000e-06
// CHECK:       %[[G:.*]] = smla.linear %[[N]], %{{.*}} : tensor<1x2x4xf32>, tensor<8x4xf32> -> tensor<1x2x8xf32>
// CHECK:       %[[U:.*]] = smla.linear %[[N]], %{{.*}} bias %{{.*}} : tensor<1x2x4xf32>, tensor<8x4xf32>, tensor<8xf32> -> tensor<1x2x8xf32>
// CHECK:       %[[S:.*]] = smla.swiglu %[[G]], %[[U]] : tensor<1x2x8xf32>, tensor<1x2x8xf32> -> tensor<1x2x8xf32>
// CHECK:       %[[D:.*]] = smla.linear %[[S]], %{{.*}} : tensor<1x2x8xf32>, tensor<4x8xf32> -> tensor<1x2x4xf32>
// CHECK:       %[[R:.*]] = smla.add %[[X]], %[[D]]
// CHECK:       func.return %[[R]]
func.func @mlp(%x: !torch.vtensor<[1,2,4],f32>) -> !torch.vtensor<[1,2,4],f32> {
  %none = torch.constant.none
  %true = torch.constant.bool true
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int-1 = torch.constant.int -1
  %eps = torch.constant.float 9.9999999999999995E-7
  %gamma = torch.vtensor.literal(dense<1.5> : tensor<4xf32>) : !torch.vtensor<[4],f32>
  %wg = torch.vtensor.literal(dense<0.1> : tensor<8x4xf32>) : !torch.vtensor<[8,4],f32>
  %wu = torch.vtensor.literal(dense<0.2> : tensor<8x4xf32>) : !torch.vtensor<[8,4],f32>
  %bu = torch.vtensor.literal(dense<0.5> : tensor<8xf32>) : !torch.vtensor<[8],f32>
  %wd = torch.vtensor.literal(dense<0.3> : tensor<4x8xf32>) : !torch.vtensor<[4,8],f32>
  %sq = torch.aten.pow.Tensor_Scalar %x, %int2 : !torch.vtensor<[1,2,4],f32>, !torch.int -> !torch.vtensor<[1,2,4],f32>
  %dims = torch.prim.ListConstruct %int-1 : (!torch.int) -> !torch.list<int>
  %mean = torch.aten.mean.dim %sq, %dims, %true, %none : !torch.vtensor<[1,2,4],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[1,2,1],f32>
  %me = torch.aten.add.Scalar %mean, %eps, %int1 : !torch.vtensor<[1,2,1],f32>, !torch.float, !torch.int -> !torch.vtensor<[1,2,1],f32>
  %r = torch.aten.rsqrt %me : !torch.vtensor<[1,2,1],f32> -> !torch.vtensor<[1,2,1],f32>
  %xn = torch.aten.mul.Tensor %x, %r : !torch.vtensor<[1,2,4],f32>, !torch.vtensor<[1,2,1],f32> -> !torch.vtensor<[1,2,4],f32>
  %n = torch.aten.mul.Tensor %gamma, %xn : !torch.vtensor<[4],f32>, !torch.vtensor<[1,2,4],f32> -> !torch.vtensor<[1,2,4],f32>
  %g = torch.aten.linear %n, %wg, %none : !torch.vtensor<[1,2,4],f32>, !torch.vtensor<[8,4],f32>, !torch.none -> !torch.vtensor<[1,2,8],f32>
  %u = torch.aten.linear %n, %wu, %bu : !torch.vtensor<[1,2,4],f32>, !torch.vtensor<[8,4],f32>, !torch.vtensor<[8],f32> -> !torch.vtensor<[1,2,8],f32>
  %s = torch.aten.silu %g : !torch.vtensor<[1,2,8],f32> -> !torch.vtensor<[1,2,8],f32>
  %m = torch.aten.mul.Tensor %s, %u : !torch.vtensor<[1,2,8],f32>, !torch.vtensor<[1,2,8],f32> -> !torch.vtensor<[1,2,8],f32>
  %d = torch.aten.linear %m, %wd, %none : !torch.vtensor<[1,2,8],f32>, !torch.vtensor<[4,8],f32>, !torch.none -> !torch.vtensor<[1,2,4],f32>
  %out = torch.aten.add.Tensor %x, %d, %int1 : !torch.vtensor<[1,2,4],f32>, !torch.vtensor<[1,2,4],f32>, !torch.int -> !torch.vtensor<[1,2,4],f32>
  return %out : !torch.vtensor<[1,2,4],f32>
}

// -----

// A SiLU that is not gating an up projection stays smla.silu.

// CHECK-LABEL: func.func @silu_alone
// CHECK:       %[[S:.*]] = smla.silu %{{.*}} : tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK:       func.return %[[S]]
func.func @silu_alone(%x: !torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32> {
  %s = torch.aten.silu %x : !torch.vtensor<[2,4],f32> -> !torch.vtensor<[2,4],f32>
  return %s : !torch.vtensor<[2,4],f32>
}
