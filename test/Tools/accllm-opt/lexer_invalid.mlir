// Input xDSL's lexer cannot take is a located error, at once (issue #18): an unterminated string
// literal would make xDSL 0.74's lexer backtrack exponentially (2^40 steps here), so accllm's
// input handling rejects it before the lexer sees it; a bad first token and attribute values a
// type cannot hold are parse errors at their op, not internal errors.
// RUN: accllm-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{string literal is not terminated on its line}}
"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

// -----

// expected-error @+1 {{invalid escape '\q' in string literal}}
"test.op"() {a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\q"} : () -> ()

// -----

// expected-error @+1 {{Expected suffix identifier}}
% 0

// -----

// expected-error @+1 {{invalid attribute value: Integer value 2 is out of range for type i1}}
"test.op"() {v = dense<[2]> : tensor<1xi1>} : () -> ()

// -----

// expected-error @+1 {{invalid attribute value: float too large}}
"test.op"() {v = 70000.0 : f16} : () -> ()

// -----

// A string that holds a comment marker and escaped quotes is fine.
"test.op"() {v = "a // b \"c\" \0A"} : () -> ()
