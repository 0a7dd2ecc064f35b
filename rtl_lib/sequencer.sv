// Instruction sequencer: fetches 64-bit instructions (docs/isa.md, accllm.rtl_lib.isa) and
// dispatches commands to NUM_UNITS engine units with valid/ready, with counted loops, barriers
// on unit completion and HALT.
//
// Execution (in order, one instruction at a time): `start` (while idle) resets pc to 0 and the loop
// stack; each instruction is requested on the fetch stream (fetch_valid/ready, fetch_addr = pc),
// its word arrives on the ins stream, then it executes:
//   DISPATCH u, p  raise cmd_valid[u] with cmd_payload = p until the unit accepts (cmd_ready[u]);
//                  stalls while unit u already has 2^OUTST_W - 1 commands outstanding
//   LOOP n         push (pc + 1, n);  ENDLOOP: decrement the top count, jump to its body while
//                  nonzero, else pop
//   BARRIER m      wait until every unit u with m[u] = 1 has no outstanding command
//   HALT           wait until no unit has an outstanding command, then raise `done`
//   NOP            nothing
// A unit reports each completed command with a one-cycle pulse on unit_done[u].
// Errors stop the sequencer with `error` high, `err_code` and `err_pc` (codes: see ERR_* below,
// mirrored by accllm.rtl_lib.isa.ErrorCode). `done`/`error` hold until the next `start`.
module sequencer #(
    parameter int NUM_UNITS = 8,
    parameter int PC_W = 10,
    parameter int LOOP_DEPTH = 4,
    parameter int OUTST_W = 4
) (
    input logic clk,
    input logic rst,

    input  logic            start,
    output logic            busy,
    output logic            done,
    output logic            error,
    output logic [     2:0] err_code,
    output logic [PC_W-1:0] err_pc,

    // instruction fetch: address stream out, instruction stream back
    output logic            fetch_valid,
    input  logic            fetch_ready,
    output logic [PC_W-1:0] fetch_addr,
    input  logic            ins_valid,
    output logic            ins_ready,
    input  logic [    63:0] ins_data,

    // engine units
    output logic [NUM_UNITS-1:0] cmd_valid,
    input  logic [NUM_UNITS-1:0] cmd_ready,
    output logic [         55:0] cmd_payload,
    input  logic [NUM_UNITS-1:0] unit_done
);
  localparam logic [3:0] OP_NOP = 4'h0;
  localparam logic [3:0] OP_DISPATCH = 4'h1;
  localparam logic [3:0] OP_LOOP = 4'h2;
  localparam logic [3:0] OP_ENDLOOP = 4'h3;
  localparam logic [3:0] OP_BARRIER = 4'h4;
  localparam logic [3:0] OP_HALT = 4'h5;

  localparam logic [2:0] ERR_ILLEGAL = 3'd1;  // bad opcode, reserved bits, LOOP 0, unknown unit
  localparam logic [2:0] ERR_LOOP_OVERFLOW = 3'd2;  // LOOP with a full loop stack
  localparam logic [2:0] ERR_LOOP_UNDERFLOW = 3'd3;  // ENDLOOP with an empty loop stack
  localparam logic [2:0] ERR_PC_OVERFLOW = 3'd4;  // execution ran past pc 2^PC_W - 1
  localparam logic [2:0] ERR_SPURIOUS_DONE = 3'd5;  // unit_done without an outstanding command

  localparam int SP_W = $clog2(LOOP_DEPTH + 1);
  localparam int IDX_W = (LOOP_DEPTH > 1) ? $clog2(LOOP_DEPTH) : 1;
  localparam logic [15:0] UNIT_MASK = 16'((32'd1 << NUM_UNITS) - 1);
  localparam logic [OUTST_W-1:0] OUTST_MAX = '1;

  initial begin
    if (NUM_UNITS < 1 || NUM_UNITS > 16) $error("sequencer: NUM_UNITS must be in 1..16");
    if (LOOP_DEPTH < 1) $error("sequencer: LOOP_DEPTH must be >= 1");
  end

  typedef enum logic [1:0] {
    S_IDLE,
    S_FETCH,
    S_WAIT,
    S_EXEC
  } state_t;
  state_t state;
  logic [PC_W-1:0] pc;
  logic [63:0] ir;
  logic [SP_W-1:0] sp;
  logic [PC_W-1:0] loop_pc[LOOP_DEPTH];
  logic [31:0] loop_left[LOOP_DEPTH];
  logic [OUTST_W-1:0] outst[NUM_UNITS];
  logic [NUM_UNITS-1:0] unit_busy;

  // ---------------------------------------------------------------- decode of the held word
  logic [3:0] op;
  logic [3:0] unit;
  logic [15:0] ir_mask;
  logic illegal;
  logic [IDX_W-1:0] top;
  assign op = ir[63:60];
  assign unit = ir[59:56];
  assign ir_mask = ir[15:0];
  assign top = IDX_W'(sp - 1'b1);

  always_comb begin
    case (op)
      OP_NOP, OP_ENDLOOP, OP_HALT: illegal = ir[59:0] != '0;
      OP_DISPATCH: illegal = 32'(unit) >= NUM_UNITS;
      OP_LOOP: illegal = ir[59:32] != '0 || ir[31:0] == '0;
      OP_BARRIER: illegal = ir[59:16] != '0 || (ir_mask & ~UNIT_MASK) != '0;
      default: illegal = 1'b1;
    endcase
  end

  for (genvar u = 0; u < NUM_UNITS; u++) begin : g_busy
    assign unit_busy[u] = outst[u] != '0;
  end

  // ---------------------------------------------------------------- handshakes
  logic exec, dispatch_fire, spurious_seen;
  assign exec = (state == S_EXEC) && !illegal && !spurious_seen;
  assign busy = (state != S_IDLE);
  assign fetch_valid = (state == S_FETCH);
  assign fetch_addr = pc;
  assign ins_ready = (state == S_WAIT);
  assign cmd_payload = ir[55:0];

  always_comb begin
    cmd_valid = '0;
    for (int u = 0; u < NUM_UNITS; u++)
      cmd_valid[u] = exec && op == OP_DISPATCH && unit == 4'(u) && outst[u] != OUTST_MAX;
  end
  assign dispatch_fire = (cmd_valid & cmd_ready) != '0;

  // Instruction completes this cycle (pc advances or jumps).
  logic retire, stop_err;
  logic [2:0] stop_code;
  always_comb begin
    retire = 1'b0;
    stop_err = 1'b0;
    stop_code = ERR_ILLEGAL;
    if (state == S_EXEC) begin
      if (illegal) begin
        stop_err = 1'b1;
      end else begin
        case (op)
          OP_DISPATCH: retire = dispatch_fire;
          OP_BARRIER: retire = (unit_busy & ir_mask[NUM_UNITS-1:0]) == '0;
          OP_LOOP: begin
            retire = 1'b1;
            if (sp == SP_W'(LOOP_DEPTH)) begin
              stop_err  = 1'b1;
              stop_code = ERR_LOOP_OVERFLOW;
            end
          end
          OP_ENDLOOP: begin
            retire = 1'b1;
            if (sp == '0) begin
              stop_err  = 1'b1;
              stop_code = ERR_LOOP_UNDERFLOW;
            end
          end
          OP_HALT: retire = 1'b0;
          default: retire = 1'b1;  // NOP
        endcase
      end
    end
  end

  logic jump_back, halt_now, pc_wrap;
  assign jump_back = (op == OP_ENDLOOP) && loop_left[top] != 32'd1;
  assign halt_now = (state == S_EXEC) && !illegal && op == OP_HALT && unit_busy == '0;
  assign pc_wrap = retire && !jump_back && pc == '1;

  // Per-unit outstanding-command counters; a done pulse with nothing outstanding is an error.
  logic spurious;
  always_comb begin
    spurious = 1'b0;
    for (int u = 0; u < NUM_UNITS; u++)
      if (unit_done[u] && !(cmd_valid[u] && cmd_ready[u]) && outst[u] == '0) spurious = 1'b1;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      for (int u = 0; u < NUM_UNITS; u++) outst[u] <= '0;
    end else begin
      for (int u = 0; u < NUM_UNITS; u++)
        outst[u] <= outst[u] + OUTST_W'(cmd_valid[u] && cmd_ready[u])
                    - OUTST_W'(unit_done[u] && (outst[u] != '0 || (cmd_valid[u] && cmd_ready[u])));
    end
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk) begin
    if (rst) begin
      state <= S_IDLE;
      pc <= '0;
      ir <= '0;
      sp <= '0;
      done <= 1'b0;
      error <= 1'b0;
      err_code <= '0;
      err_pc <= '0;
      spurious_seen <= 1'b0;
      for (int d = 0; d < LOOP_DEPTH; d++) begin
        loop_pc[d]   <= '0;
        loop_left[d] <= '0;
      end
    end else begin
      case (state)
        S_IDLE:
        if (start) begin
          state <= S_FETCH;
          pc <= '0;
          sp <= '0;
          done <= 1'b0;
          error <= 1'b0;
          err_code <= '0;
          spurious_seen <= 1'b0;
        end
        S_FETCH: if (fetch_ready) state <= S_WAIT;
        S_WAIT:
        if (ins_valid) begin
          ir <= ins_data;
          state <= S_EXEC;
        end
        default: begin  // S_EXEC
          if (spurious_seen) begin
            // stopped by the error branch below
          end else if (halt_now) begin
            done  <= 1'b1;
            state <= S_IDLE;
          end else if (retire && !stop_err && !pc_wrap) begin
            state <= S_FETCH;
            pc <= pc + 1'b1;
            if (op == OP_LOOP) begin
              loop_pc[sp[IDX_W-1:0]] <= pc + 1'b1;
              loop_left[sp[IDX_W-1:0]] <= ir[31:0];
              sp <= sp + 1'b1;
            end else if (op == OP_ENDLOOP) begin
              if (jump_back) begin
                loop_left[top] <= loop_left[top] - 1'b1;
                pc <= loop_pc[top];
              end else begin
                sp <= sp - 1'b1;
              end
            end
          end
        end
      endcase
      // A spurious completion is remembered and reported at the next executing instruction, so
      // the sequencer never stops with an instruction fetch in flight.
      if (state != S_IDLE && spurious) spurious_seen <= 1'b1;
      // Errors win over everything else in the same cycle.
      if (state == S_EXEC && (stop_err || pc_wrap || spurious_seen)) begin
        state <= S_IDLE;
        error <= 1'b1;
        err_pc <= pc;
        err_code <= spurious_seen ? ERR_SPURIOUS_DONE : (stop_err ? stop_code : ERR_PC_OVERFLOW);
      end
    end
  end
endmodule
