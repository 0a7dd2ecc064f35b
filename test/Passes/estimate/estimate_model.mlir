// accllm-estimate on a float (config-only-like) decoder: the compression is assumed (G=128,
// Λ 4 + 1020, or the window given); the module gets the summary attribute; report/plot files.
// The sim target's 64 DSPs cannot hold the stream engine (stream_linear_unit, the attention
// pipelines, norm / vector / RoPE units): the estimate says it does not fit.
// RUN: rm -rf %t && mkdir -p %t
// RUN: accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{target="sim" contexts="1,64" prompts="8" report="%t/r.json" plot="%t/r.png"}' | FileCheck %s
// RUN: %python -c "import json,sys; r=json.load(open('%t/r.json')); w=r['workloads'][0]; print(w['assumed_compression'], [d['context'] for d in w['decode']], w['prefill'][0]['tokens'])" | FileCheck %s --check-prefix=JSON
// RUN: %python -c "import sys; sys.stdout.write(str(open('%t/r.png','rb').read(8)))" | FileCheck %s --check-prefix=PNG
// RUN: accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{target="sim" window=12 contexts="1,64"}' -o %t/w.mlir
// RUN: not accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{target="nope"}' 2>&1 | FileCheck %s --check-prefix=BADTARGET
// Power on u280 (a target with device power figures): the headline on stderr says it is a
// pre-silicon estimate, the summary attribute carries the watts and tokens per joule; the sim
// target has no device figures and says so.
// RUN: accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{target="u280" contexts="1,64" prompts="8" report="%t/u.json"}' 2>&1 | FileCheck %s --check-prefix=POWER
// RUN: %python -c "import json; p=json.load(open('%t/u.json'))['workloads'][0]['power']; d=p['decode']; print(p['limits'], sorted(p['published']), d['watts_range'][0] < d['watts'] < d['watts_range'][1], sorted(d['breakdown_w'])[:3])" | FileCheck %s --check-prefix=POWERJSON
// RUN: accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{target="sim" contexts="1,64" prompts="8"}' 2>&1 >/dev/null | FileCheck %s --check-prefix=NOPOWER
// The what-if options of the old engine are gone: an estimate is of the emitted hardware.
// RUN: not accllm-opt %S/../Inputs/tiny_decoder.mlir -p 'accllm-estimate{double_buffer=true}' 2>&1 | FileCheck %s --check-prefix=NOWHATIF

// CHECK: builtin.module attributes {accllm.estimate = {target = "sim", decode_tokens_per_s = {{.*}}, decode_context = 64 : i64, hbm_bytes_per_token = {{[0-9]+}} : i64, hbm_utilisation = {{.*}}, roofline_tokens_per_s = {{.*}}, fits = "no", prefill8_tokens_per_s = {{.*}}, util_lut = {{.*}}, util_ff = {{.*}}, util_dsp = {{[1-9]}}.{{[0-9]+}}e+00 : f64, util_bram36 = {{.*}}, util_uram = {{.*}}}}
// CHECK: func.func @forward

// JSON: {'group': 128, 'sink': 4, 'window': 1020} [1, 64] 8
// PNG: b'\x89PNG\r\n\x1a\n'
// POWER: accllm-estimate: decode {{[0-9.]+}} W ({{[0-9.]+}}-{{[0-9.]+}}), {{[0-9.]+}} tokens/J ({{[0-9.]+}}-{{[0-9.]+}}) at {{[0-9.]+}} tokens/s -- pre-silicon estimate, no board measurement
// POWER: accllm-estimate: published Llama-2-7B decode: AccLLM (U280, reported) 164 tokens/s, 33 W, 4.97 tokens/J; FlightLLM (U280; W derived) 55 tokens/s, 45.1 W, 1.22 tokens/J
// POWER: accllm.estimate = {target = "u280", {{.*}}, decode_watts = {{.*}} : f64, decode_tokens_per_joule = {{.*}} : f64, power_note = "pre-silicon estimate, no board measurement"}
// POWERJSON: pre-silicon estimate, no board measurement ['AccLLM (U280, reported)', 'FlightLLM (U280; W derived)'] True ['device_static', 'hbm_dynamic', 'hbm_static']
// NOPOWER: accllm-estimate: power: not estimated (no device power figures for target 'sim' (known: u280))
// BADTARGET: accllm-estimate: unknown target 'nope'; shipped: sim, u280
// NOWHATIF: Provided arguments ["double_buffer"] not found
