// RUN: accllm-opt -p convert-torch-to-accllm %s | FileCheck %s

// One attention block as HF Llama exports it: q/k/v projections, per-head view + permute,
// RoPE (cos/sin tables from arange positions, rotate_half), GQA repeat_kv (1 KV head for 2
// query heads), SDPA with an explicit causal mask, heads merged, o_proj, residual add.

// CHECK-LABEL: func.func @attention(%{{.*}}: tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
// CHECK-DAG:   %[[WQ:.*]] = smla.weight dense<1.000000e-01> : tensor<8x8xf32>
// CHECK-DAG:   %[[WK:.*]] = smla.weight dense<2.000000e-01> : tensor<4x8xf32>
// CHECK-DAG:   %[[WV:.*]] = smla.weight dense<3.000000e-01> : tensor<4x8xf32>
// CHECK-DAG:   %[[WO:.*]] = smla.weight dense<4.000000e-01> : tensor<8x8xf32>
// CHECK-DAG:   %[[POS:.*]] = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK:       %[[Q:.*]] = smla.linear %{{.*}}, %[[WQ]] : tensor<1x4x8xf32>, tensor<8x8xf32> -> tensor<1x4x8xf32>
// CHECK:       %[[K:.*]] = smla.linear %{{.*}}, %[[WK]] : tensor<1x4x8xf32>, tensor<4x8xf32> -> tensor<1x4x4xf32>
// CHECK:       %[[V:.*]] = smla.linear %{{.*}}, %[[WV]] : tensor<1x4x8xf32>, tensor<4x8xf32> -> tensor<1x4x4xf32>
// CHECK:       %[[QR:.*]] = smla.rope %[[Q]], %[[POS]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64, max_positions = 4 : i64}
// CHECK:       %[[KR:.*]] = smla.rope %[[K]], %[[POS]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64, max_positions = 4 : i64}
// CHECK:       %[[A:.*]] = lattn.prefill %[[QR]], %[[KR]], %[[V]] {num_heads = 2 : i64, num_kv_heads = 1 : i64, causal} : tensor<1x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32> -> tensor<1x4x8xf32>
// CHECK:       %[[O:.*]] = smla.linear %[[A]], %[[WO]]
// CHECK:       %[[R:.*]] = smla.add %{{.*}}, %[[O]]
// CHECK:       func.return %[[R]] : tensor<1x4x8xf32>
// CHECK-NOT:   torch.
func.func @attention(%x: !torch.vtensor<[1,4,8],f32>) -> !torch.vtensor<[1,4,8],f32> {
  %none = torch.constant.none
  %false = torch.constant.bool false
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int3 = torch.constant.int 3
  %int4 = torch.constant.int 4
  %int6 = torch.constant.int 6
  %int8 = torch.constant.int 8
  %int-1 = torch.constant.int -1
  %intmax = torch.constant.int 9223372036854775807
  %float0 = torch.constant.float 0.000000e+00
  %scale = torch.constant.float 5.000000e-01
  %wq = torch.vtensor.literal(dense<0.1> : tensor<8x8xf32>) : !torch.vtensor<[8,8],f32>
  %wk = torch.vtensor.literal(dense<0.2> : tensor<4x8xf32>) : !torch.vtensor<[4,8],f32>
  %wv = torch.vtensor.literal(dense<0.3> : tensor<4x8xf32>) : !torch.vtensor<[4,8],f32>
  %wo = torch.vtensor.literal(dense<0.4> : tensor<8x8xf32>) : !torch.vtensor<[8,8],f32>
  %inv_freq = torch.vtensor.literal(dense<[1.000000e+00, 9.99999977E-3]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  // positions 0..3 and the cos/sin tables [1,1,4,4]
  %pos = torch.aten.arange.start_step %int0, %int4, %int1, %none, %none, %none, %none : !torch.int, !torch.int, !torch.int, !torch.none, !torch.none, !torch.none, !torch.none -> !torch.vtensor<[4],si64>
  %pos1 = torch.aten.unsqueeze %pos, %int0 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[1,4],si64>
  %pos2 = torch.aten.unsqueeze %pos1, %int2 : !torch.vtensor<[1,4],si64>, !torch.int -> !torch.vtensor<[1,4,1],si64>
  %posf = torch.aten.to.dtype %pos2, %int6, %false, %false, %none : !torch.vtensor<[1,4,1],si64>, !torch.int, !torch.bool, !torch.bool, !torch.none -> !torch.vtensor<[1,4,1],f32>
  %freqs = torch.aten.mul.Tensor %posf, %inv_freq : !torch.vtensor<[1,4,1],f32>, !torch.vtensor<[2],f32> -> !torch.vtensor<[1,4,2],f32>
  %fl = torch.prim.ListConstruct %freqs, %freqs : (!torch.vtensor<[1,4,2],f32>, !torch.vtensor<[1,4,2],f32>) -> !torch.list<vtensor>
  %emb = torch.aten.cat %fl, %int-1 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[1,4,4],f32>
  %cos0 = torch.aten.cos %emb : !torch.vtensor<[1,4,4],f32> -> !torch.vtensor<[1,4,4],f32>
  %sin0 = torch.aten.sin %emb : !torch.vtensor<[1,4,4],f32> -> !torch.vtensor<[1,4,4],f32>
  %cos = torch.aten.unsqueeze %cos0, %int1 : !torch.vtensor<[1,4,4],f32>, !torch.int -> !torch.vtensor<[1,1,4,4],f32>
  %sin = torch.aten.unsqueeze %sin0, %int1 : !torch.vtensor<[1,4,4],f32>, !torch.int -> !torch.vtensor<[1,1,4,4],f32>
  // causal mask: key index <= query index
  %kidx = torch.aten.unsqueeze %pos, %int0 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[1,4],si64>
  %qidx = torch.aten.unsqueeze %pos, %int1 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4,1],si64>
  %mask = torch.aten.le.Tensor %kidx, %qidx : !torch.vtensor<[1,4],si64>, !torch.vtensor<[4,1],si64> -> !torch.vtensor<[4,4],i1>
  // projections and head views
  %q0 = torch.aten.linear %x, %wq, %none : !torch.vtensor<[1,4,8],f32>, !torch.vtensor<[8,8],f32>, !torch.none -> !torch.vtensor<[1,4,8],f32>
  %k0 = torch.aten.linear %x, %wk, %none : !torch.vtensor<[1,4,8],f32>, !torch.vtensor<[4,8],f32>, !torch.none -> !torch.vtensor<[1,4,4],f32>
  %v0 = torch.aten.linear %x, %wv, %none : !torch.vtensor<[1,4,8],f32>, !torch.vtensor<[4,8],f32>, !torch.none -> !torch.vtensor<[1,4,4],f32>
  %qs = torch.prim.ListConstruct %int1, %int4, %int-1, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %perm = torch.prim.ListConstruct %int0, %int2, %int1, %int3 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %q1 = torch.aten.view %q0, %qs : !torch.vtensor<[1,4,8],f32>, !torch.list<int> -> !torch.vtensor<[1,4,2,4],f32>
  %q = torch.aten.permute %q1, %perm : !torch.vtensor<[1,4,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,4,4],f32>
  %k1 = torch.aten.view %k0, %qs : !torch.vtensor<[1,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,4,1,4],f32>
  %k = torch.aten.permute %k1, %perm : !torch.vtensor<[1,4,1,4],f32>, !torch.list<int> -> !torch.vtensor<[1,1,4,4],f32>
  %v1 = torch.aten.view %v0, %qs : !torch.vtensor<[1,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,4,1,4],f32>
  %v = torch.aten.permute %v1, %perm : !torch.vtensor<[1,4,1,4],f32>, !torch.list<int> -> !torch.vtensor<[1,1,4,4],f32>
  // RoPE: q * cos + rotate_half(q) * sin
  %qc = torch.aten.mul.Tensor %q, %cos : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,1,4,4],f32> -> !torch.vtensor<[1,2,4,4],f32>
  %qlo = torch.aten.slice.Tensor %q, %int3, %int0, %int2, %int1 : !torch.vtensor<[1,2,4,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,2,4,2],f32>
  %qhi = torch.aten.slice.Tensor %q, %int3, %int2, %intmax, %int1 : !torch.vtensor<[1,2,4,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,2,4,2],f32>
  %qneg = torch.aten.neg %qhi : !torch.vtensor<[1,2,4,2],f32> -> !torch.vtensor<[1,2,4,2],f32>
  %ql = torch.prim.ListConstruct %qneg, %qlo : (!torch.vtensor<[1,2,4,2],f32>, !torch.vtensor<[1,2,4,2],f32>) -> !torch.list<vtensor>
  %qrot = torch.aten.cat %ql, %int-1 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[1,2,4,4],f32>
  %qs2 = torch.aten.mul.Tensor %qrot, %sin : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,1,4,4],f32> -> !torch.vtensor<[1,2,4,4],f32>
  %qe = torch.aten.add.Tensor %qc, %qs2, %int1 : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,4,4],f32>, !torch.int -> !torch.vtensor<[1,2,4,4],f32>
  %kc = torch.aten.mul.Tensor %k, %cos : !torch.vtensor<[1,1,4,4],f32>, !torch.vtensor<[1,1,4,4],f32> -> !torch.vtensor<[1,1,4,4],f32>
  %klo = torch.aten.slice.Tensor %k, %int3, %int0, %int2, %int1 : !torch.vtensor<[1,1,4,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,1,4,2],f32>
  %khi = torch.aten.slice.Tensor %k, %int3, %int2, %intmax, %int1 : !torch.vtensor<[1,1,4,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,1,4,2],f32>
  %kneg = torch.aten.neg %khi : !torch.vtensor<[1,1,4,2],f32> -> !torch.vtensor<[1,1,4,2],f32>
  %kl = torch.prim.ListConstruct %kneg, %klo : (!torch.vtensor<[1,1,4,2],f32>, !torch.vtensor<[1,1,4,2],f32>) -> !torch.list<vtensor>
  %krot = torch.aten.cat %kl, %int-1 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[1,1,4,4],f32>
  %ks2 = torch.aten.mul.Tensor %krot, %sin : !torch.vtensor<[1,1,4,4],f32>, !torch.vtensor<[1,1,4,4],f32> -> !torch.vtensor<[1,1,4,4],f32>
  %ke = torch.aten.add.Tensor %kc, %ks2, %int1 : !torch.vtensor<[1,1,4,4],f32>, !torch.vtensor<[1,1,4,4],f32>, !torch.int -> !torch.vtensor<[1,1,4,4],f32>
  // GQA repeat_kv: [1,1,4,4] -> [1,1,1,4,4] -> [1,1,2,4,4] -> [1,2,4,4]
  %rep = torch.prim.ListConstruct %int1, %int1, %int2, %int4, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %hs = torch.prim.ListConstruct %int1, %int2, %int4, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %ku = torch.aten.unsqueeze %ke, %int2 : !torch.vtensor<[1,1,4,4],f32>, !torch.int -> !torch.vtensor<[1,1,1,4,4],f32>
  %kb = torch.aten.broadcast_to %ku, %rep : !torch.vtensor<[1,1,1,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,1,2,4,4],f32>
  %kx = torch.aten.view %kb, %hs : !torch.vtensor<[1,1,2,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,4,4],f32>
  %vu = torch.aten.unsqueeze %v, %int2 : !torch.vtensor<[1,1,4,4],f32>, !torch.int -> !torch.vtensor<[1,1,1,4,4],f32>
  %vb = torch.aten.broadcast_to %vu, %rep : !torch.vtensor<[1,1,1,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,1,2,4,4],f32>
  %vx = torch.aten.view %vb, %hs : !torch.vtensor<[1,1,2,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,4,4],f32>
  %att = torch.aten.scaled_dot_product_attention %qe, %kx, %vx, %mask, %float0, %false, %scale, %false : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[4,4],i1>, !torch.float, !torch.bool, !torch.float, !torch.bool -> !torch.vtensor<[1,2,4,4],f32>
  %at = torch.aten.permute %att, %perm : !torch.vtensor<[1,2,4,4],f32>, !torch.list<int> -> !torch.vtensor<[1,4,2,4],f32>
  %ms = torch.prim.ListConstruct %int1, %int4, %int-1 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %am = torch.aten.view %at, %ms : !torch.vtensor<[1,4,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,4,8],f32>
  %o = torch.aten.linear %am, %wo, %none : !torch.vtensor<[1,4,8],f32>, !torch.vtensor<[8,8],f32>, !torch.none -> !torch.vtensor<[1,4,8],f32>
  %r = torch.aten.add.Tensor %x, %o, %int1 : !torch.vtensor<[1,4,8],f32>, !torch.vtensor<[1,4,8],f32>, !torch.int -> !torch.vtensor<[1,4,8],f32>
  return %r : !torch.vtensor<[1,4,8],f32>
}
