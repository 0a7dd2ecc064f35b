// RUN: accllm-opt --allow-unregistered-dialect -p convert-torch-to-accllm --split-input-file --verify-diagnostics %s

// An aten op the torch subset cannot even parse in custom form arrives unregistered (generic
// form); the conversion names it.
func.func @unknown_op(%x: !torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32> {
  // expected-error @+1 {{unsupported aten op 'aten.erfinv'}}
  %y = "torch.aten.erfinv"(%x) : (!torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32>
  return %y : !torch.vtensor<[2,4],f32>
}

// -----

// A known aten op that accllm has no op for is an error too, never dropped.
func.func @gelu(%x: !torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32> {
  %none = torch.constant.str "none"
  // expected-error @+1 {{unsupported aten op 'aten.gelu'}}
  %y = torch.aten.gelu %x, %none : !torch.vtensor<[2,4],f32>, !torch.str -> !torch.vtensor<[2,4],f32>
  return %y : !torch.vtensor<[2,4],f32>
}

// -----

// Dead code is checked as well: an unsupported op is reported even if its result is unused.
func.func @dead_unsupported(%x: !torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32> {
  // expected-error @+1 {{unsupported aten op 'aten.tanh'}}
  %y = torch.aten.tanh %x : !torch.vtensor<[2,4],f32> -> !torch.vtensor<[2,4],f32>
  return %x : !torch.vtensor<[2,4],f32>
}

// -----

// A softmax is never re-assembled into attention: decomposed attention is rejected.
func.func @decomposed_softmax(%x: !torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,4],f32> {
  %int-1 = torch.constant.int -1
  %none = torch.constant.none
  // expected-error @+1 {{unsupported aten op 'aten.softmax.int'}}
  %y = torch.aten.softmax.int %x, %int-1, %none : !torch.vtensor<[2,4],f32>, !torch.int, !torch.none -> !torch.vtensor<[2,4],f32>
  return %y : !torch.vtensor<[2,4],f32>
}

// -----

// Broadcasting products outside RMSNorm/RoPE have no smla op.
func.func @broadcast_mul(%x: !torch.vtensor<[2,4],f32>, %y: !torch.vtensor<[2,1],f32>) -> !torch.vtensor<[2,4],f32> {
  // expected-error @+1 {{'aten.mul.Tensor' with broadcasting is not supported}}
  %z = torch.aten.mul.Tensor %x, %y : !torch.vtensor<[2,4],f32>, !torch.vtensor<[2,1],f32> -> !torch.vtensor<[2,4],f32>
  return %z : !torch.vtensor<[2,4],f32>
}

// -----

// The attention scale must be lattn's 1/sqrt(head_dim); the mask must be causal or absent.
func.func @bad_scale(%q: !torch.vtensor<[1,2,8],f32>) -> !torch.vtensor<[1,2,8],f32> {
  %none = torch.constant.none
  %false = torch.constant.bool false
  %true = torch.constant.bool true
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int3 = torch.constant.int 3
  %int4 = torch.constant.int 4
  %f0 = torch.constant.float 0.000000e+00
  %scale = torch.constant.float 1.000000e+00
  %s = torch.prim.ListConstruct %int1, %int2, %int2, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %p = torch.prim.ListConstruct %int0, %int2, %int1, %int3 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %m = torch.prim.ListConstruct %int1, %int2, %int4 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %v = torch.aten.view %q, %s : !torch.vtensor<[1,2,8],f32>, !torch.list<int> -> !torch.vtensor<[1,2,2,4],f32>
  %h = torch.aten.permute %v, %p : !torch.vtensor<[1,2,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,2,4],f32>
  // expected-error @+1 {{attention scale 1.0 is not 1/sqrt(head_dim=4)}}
  %a = torch.aten.scaled_dot_product_attention %h, %h, %h, %none, %f0, %true, %scale, %false : !torch.vtensor<[1,2,2,4],f32>, !torch.vtensor<[1,2,2,4],f32>, !torch.vtensor<[1,2,2,4],f32>, !torch.none, !torch.float, !torch.bool, !torch.float, !torch.bool -> !torch.vtensor<[1,2,2,4],f32>
  %t = torch.aten.permute %a, %p : !torch.vtensor<[1,2,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,2,4],f32>
  %o = torch.aten.view %t, %m : !torch.vtensor<[1,2,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,8],f32>
  return %o : !torch.vtensor<[1,2,8],f32>
}

// -----

func.func @anticausal_mask(%q: !torch.vtensor<[1,2,8],f32>) -> !torch.vtensor<[1,2,8],f32> {
  %none = torch.constant.none
  %false = torch.constant.bool false
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int3 = torch.constant.int 3
  %int4 = torch.constant.int 4
  %f0 = torch.constant.float 0.000000e+00
  %mask = torch.vtensor.literal(dense<[[true, true], [false, true]]> : tensor<2x2xi1>) : !torch.vtensor<[2,2],i1>
  %s = torch.prim.ListConstruct %int1, %int2, %int2, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %p = torch.prim.ListConstruct %int0, %int2, %int1, %int3 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %v = torch.aten.view %q, %s : !torch.vtensor<[1,2,8],f32>, !torch.list<int> -> !torch.vtensor<[1,2,2,4],f32>
  %h = torch.aten.permute %v, %p : !torch.vtensor<[1,2,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,2,4],f32>
  // expected-error @+1 {{the attention mask is neither causal, all-visible nor a causal sliding window}}
  %a = torch.aten.scaled_dot_product_attention %h, %h, %h, %mask, %f0, %false, %none, %false : !torch.vtensor<[1,2,2,4],f32>, !torch.vtensor<[1,2,2,4],f32>, !torch.vtensor<[1,2,2,4],f32>, !torch.vtensor<[2,2],i1>, !torch.float, !torch.bool, !torch.none, !torch.bool -> !torch.vtensor<[1,2,2,4],f32>
  return %q : !torch.vtensor<[1,2,8],f32>
}

// -----

// RoPE tables that are not the default rotary embedding (here: cos scaled by 2, like a scaled
// RoPE variant's attention factor) are rejected, not approximated.
func.func @scaled_rope(%x: !torch.vtensor<[1,2,4],f32>) -> !torch.vtensor<[1,2,4],f32> {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int3 = torch.constant.int 3
  %int4 = torch.constant.int 4
  %int-1 = torch.constant.int -1
  %cos = torch.vtensor.literal(dense<2.0> : tensor<1x1x2x4xf32>) : !torch.vtensor<[1,1,2,4],f32>
  %sin = torch.vtensor.literal(dense<0.0> : tensor<1x1x2x4xf32>) : !torch.vtensor<[1,1,2,4],f32>
  %s = torch.prim.ListConstruct %int1, %int2, %int1, %int4 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %p = torch.prim.ListConstruct %int0, %int2, %int1, %int3 : (!torch.int, !torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %v = torch.aten.view %x, %s : !torch.vtensor<[1,2,4],f32>, !torch.list<int> -> !torch.vtensor<[1,2,1,4],f32>
  %h = torch.aten.permute %v, %p : !torch.vtensor<[1,2,1,4],f32>, !torch.list<int> -> !torch.vtensor<[1,1,2,4],f32>
  %c = torch.aten.mul.Tensor %h, %cos : !torch.vtensor<[1,1,2,4],f32>, !torch.vtensor<[1,1,2,4],f32> -> !torch.vtensor<[1,1,2,4],f32>
  %lo = torch.aten.slice.Tensor %h, %int3, %int0, %int2, %int1 : !torch.vtensor<[1,1,2,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,1,2,2],f32>
  %hi = torch.aten.slice.Tensor %h, %int3, %int2, %int4, %int1 : !torch.vtensor<[1,1,2,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[1,1,2,2],f32>
  %n = torch.aten.neg %hi : !torch.vtensor<[1,1,2,2],f32> -> !torch.vtensor<[1,1,2,2],f32>
  %l = torch.prim.ListConstruct %n, %lo : (!torch.vtensor<[1,1,2,2],f32>, !torch.vtensor<[1,1,2,2],f32>) -> !torch.list<vtensor>
  %r = torch.aten.cat %l, %int-1 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[1,1,2,4],f32>
  %rs = torch.aten.mul.Tensor %r, %sin : !torch.vtensor<[1,1,2,4],f32>, !torch.vtensor<[1,1,2,4],f32> -> !torch.vtensor<[1,1,2,4],f32>
  // expected-error @+1 {{RoPE tables are not the default rotary embedding}}
  %y = torch.aten.add.Tensor %c, %rs, %int1 : !torch.vtensor<[1,1,2,4],f32>, !torch.vtensor<[1,1,2,4],f32>, !torch.int -> !torch.vtensor<[1,1,2,4],f32>
  return %x : !torch.vtensor<[1,2,4],f32>
}
