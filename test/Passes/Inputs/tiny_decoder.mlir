// A one-layer Llama decoder at the model level (hidden 64, 4 heads of 16, 2 KV heads, FFN 128,
// vocab 32, 8 tokens); weights in w.safetensors (Inputs/make_params.py).
func.func @forward(%ids: tensor<1x8xi64>) -> tensor<1x8x32xf32> {
  %emb = smla.weight #smla.param<"w.safetensors", "model.embed_tokens.weight"> : tensor<32x64xf32>
  %n1 = smla.weight #smla.param<"w.safetensors", "model.layers.0.input_layernorm.weight"> : tensor<64xf32>
  %wq = smla.weight #smla.param<"w.safetensors", "model.layers.0.self_attn.q_proj.weight"> : tensor<64x64xf32>
  %wk = smla.weight #smla.param<"w.safetensors", "model.layers.0.self_attn.k_proj.weight"> : tensor<32x64xf32>
  %wv = smla.weight #smla.param<"w.safetensors", "model.layers.0.self_attn.v_proj.weight"> : tensor<32x64xf32>
  %wo = smla.weight #smla.param<"w.safetensors", "model.layers.0.self_attn.o_proj.weight"> : tensor<64x64xf32>
  %n2 = smla.weight #smla.param<"w.safetensors", "model.layers.0.post_attention_layernorm.weight"> : tensor<64xf32>
  %wg = smla.weight #smla.param<"w.safetensors", "model.layers.0.mlp.gate_proj.weight"> : tensor<128x64xf32>
  %wu = smla.weight #smla.param<"w.safetensors", "model.layers.0.mlp.up_proj.weight"> : tensor<128x64xf32>
  %wd = smla.weight #smla.param<"w.safetensors", "model.layers.0.mlp.down_proj.weight"> : tensor<64x128xf32>
  %fn = smla.weight #smla.param<"w.safetensors", "model.norm.weight"> : tensor<64xf32>
  %head = smla.weight #smla.param<"w.safetensors", "lm_head.weight"> : tensor<32x64xf32>
  %pos = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi64>
  %x = smla.embedding %ids, %emb : tensor<1x8xi64>, tensor<32x64xf32> -> tensor<1x8x64xf32>
  %h = smla.rmsnorm %x, %n1 epsilon = 1.0e-05 : tensor<1x8x64xf32>, tensor<64xf32> -> tensor<1x8x64xf32>
  %q = smla.linear %h, %wq : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %k = smla.linear %h, %wk : tensor<1x8x64xf32>, tensor<32x64xf32> -> tensor<1x8x32xf32>
  %v = smla.linear %h, %wv : tensor<1x8x64xf32>, tensor<32x64xf32> -> tensor<1x8x32xf32>
  %qr = smla.rope %q, %pos {head_dim = 16, theta = 10000.0, max_positions = 64} : tensor<1x8x64xf32>, tensor<8xi64> -> tensor<1x8x64xf32>
  %kr = smla.rope %k, %pos {head_dim = 16, theta = 10000.0, max_positions = 64} : tensor<1x8x32xf32>, tensor<8xi64> -> tensor<1x8x32xf32>
  %a = lattn.prefill %qr, %kr, %v {num_heads = 4, num_kv_heads = 2, causal} : tensor<1x8x64xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32> -> tensor<1x8x64xf32>
  %o = smla.linear %a, %wo : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %r1 = smla.add %x, %o : tensor<1x8x64xf32>, tensor<1x8x64xf32> -> tensor<1x8x64xf32>
  %h2 = smla.rmsnorm %r1, %n2 epsilon = 1.0e-05 : tensor<1x8x64xf32>, tensor<64xf32> -> tensor<1x8x64xf32>
  %g = smla.linear %h2, %wg : tensor<1x8x64xf32>, tensor<128x64xf32> -> tensor<1x8x128xf32>
  %u = smla.linear %h2, %wu : tensor<1x8x64xf32>, tensor<128x64xf32> -> tensor<1x8x128xf32>
  %s = smla.swiglu %g, %u : tensor<1x8x128xf32>, tensor<1x8x128xf32> -> tensor<1x8x128xf32>
  %d = smla.linear %s, %wd : tensor<1x8x128xf32>, tensor<64x128xf32> -> tensor<1x8x64xf32>
  %r2 = smla.add %r1, %d : tensor<1x8x64xf32>, tensor<1x8x64xf32> -> tensor<1x8x64xf32>
  %hf = smla.rmsnorm %r2, %fn epsilon = 1.0e-05 : tensor<1x8x64xf32>, tensor<64xf32> -> tensor<1x8x64xf32>
  %logits = smla.lm_head %hf, %head : tensor<1x8x64xf32>, tensor<32x64xf32> -> tensor<1x8x32xf32>
  func.return %logits : tensor<1x8x32xf32>
}
