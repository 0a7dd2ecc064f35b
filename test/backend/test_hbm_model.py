"""The behavioural HBM's AXI slave (`backend/sim/hbm.AxiHbm`) driven cycle by cycle in Python:
512-bit beats from pairs of 256-bit words, strobed writes, the read latency, and reads and writes
sharing one bandwidth credit. (The RTL tests of axi_read_master, axi_write_master and
stream_prefetcher drive it through cocotb.)"""

from __future__ import annotations

from accllm.backend.sim.hbm import OKAY, SLVERR, AxiHbm

W0, W1, W2, W3 = (0x1111 << 240) | 1, 2, (0x3333 << 200) | 3, 4


def test_512_bit_beat_is_two_words_low_address_low_bits():
    ch = AxiHbm("p_", {0: W0, 1: W1, 2: W2, 3: W3}, latency=3, words_per_cycle=2.0, data_bits=512)
    assert ch.read_beat(0) == W0 | (W1 << 256)
    assert ch.read_beat(64) == W2 | (W3 << 256)
    ch.step(1, ar=(0, 1), moved=False)  # a 2-beat burst accepted in cycle 0
    offers = []
    for cycle in range(2, 10):
        moved = ch._offer is not None
        if moved:
            offers.append((cycle - 1, ch._offer))
        ch.step(cycle, None, moved)
    # first beat offered `latency` cycles after the AR handshake, then one per cycle
    assert offers == [(4, (W0 | (W1 << 256), False, OKAY)), (5, (W2 | (W3 << 256), True, OKAY))]
    assert ch.words_read == 4 and ch.bursts == 1 and not ch.violations


def test_strobed_write_changes_only_enabled_bytes():
    ch = AxiHbm("p_", {0: W0, 1: W1}, latency=1, words_per_cycle=2.0, data_bits=512)
    data = int.from_bytes(bytes(range(64)), "little")
    strb = (1 << 0) | (1 << 31) | (1 << 32)  # byte 0 and 31 of word 0, byte 0 of word 1
    ch.write_beat(0, data, strb)
    w0 = bytearray(W0.to_bytes(32, "little"))
    w0[0], w0[31] = 0, 31
    w1 = bytearray(W1.to_bytes(32, "little"))
    w1[0] = 32
    assert ch.words[0] == int.from_bytes(w0, "little")
    assert ch.words[1] == int.from_bytes(w1, "little")
    assert (ch.words_written, ch.bytes_written) == (2, 3)
    ch.write_beat(128, data, 0)  # no strobe: nothing written, nothing counted
    assert 4 not in ch.words and ch.words_written == 2


def test_reads_and_writes_share_the_bandwidth():
    """A long read burst and a long write burst at 0.5 words per cycle: together at most the
    channel's rate, and both make progress (they take turns)."""
    ch = AxiHbm("p_", {}, latency=2, words_per_cycle=0.5)
    ch.step(1, ar=(0, 127), moved=False, aw=(8192, 127))
    reads = writes = 0
    cycles = 400
    for cycle in range(2, cycles + 2):
        moved = ch._offer is not None
        w = (cycle, (1 << 32) - 1, writes == 127) if ch._wready else None
        reads += moved
        writes += w is not None
        ch.step(cycle, None, moved, w=w, w_waiting=True)
    assert reads + writes <= cycles * 0.5 + 1
    assert reads >= 95 and writes >= 95, (reads, writes)
    assert not ch.violations


def test_b_response_after_latency_and_errors():
    ch = AxiHbm("p_", {}, latency=5, words_per_cycle=1.0)
    ch.error_addrs.add(32)
    ch.step(1, None, False, aw=(0, 1))  # 2-beat burst; its second beat is an error address
    cycle, b = 2, []
    for _ in range(20):
        w = (7, 0xFFFF_FFFF, len(b) == 0 and ch._aw[0][1] == 1) if ch._wready and ch._aw else None
        b_moved = ch._b_offer is not None
        if b_moved:
            b.append((cycle - 1, ch._b_offer))
        ch.step(cycle, None, False, w=w, b_moved=b_moved, w_waiting=bool(ch._aw))
        cycle += 1
    assert len(b) == 1 and b[0][1] == SLVERR
    assert ch.write_bursts == 1 and not ch.violations


def test_violations_are_recorded():
    ch = AxiHbm("p_", {}, latency=1, words_per_cycle=1.0)
    ch.step(1, ar=(4096 - 32, 1), moved=False)  # 2 beats across 4 KiB
    ch.step(2, ar=(16, 0), moved=False)  # unaligned
    ch.step(3, None, False, aw=(0, 1))
    ch.step(4, None, False, w=(0, 1, 1))  # wlast on the first of two beats
    assert len(ch.violations) == 3, ch.violations
