#!/usr/bin/python3
"""Seeds for fuzz_ipfrag (tests/fuzz/fuzz_ipfrag.c): datagrams cut into
fragments in order, out of order, overlapping, duplicated, with a hole and
with a lying MF bit. Usage: make_corpus_ipfrag.py [DIR] (default
tests/fuzz/corpus/ipfrag next to this script)."""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ipfrag")
os.makedirs(out, exist_ok=True)

ICMP, UDP, TCP = 0, 1, 2
FIX = 4


def seed(name, proto, ident, frags, payload):
    """frags: (offset in 8-byte units, length, ctl) per fragment."""
    b = bytes([proto | FIX]) + struct.pack(">H", ident) + bytes([len(frags) - 1])
    for off8, ln, ctl in frags:
        b += bytes([off8, ln, ctl])
    b += payload
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)


echo = bytes([8, 0, 0, 0, 0x12, 0x34, 0, 1]) + bytes(range(256)) * 2 + bytes(range(80))  # 600 bytes
seed("echo_in_order", ICMP, 0x101, [(0, 200, 0), (25, 200, 0), (50, 200, 0)], echo)
seed("echo_reversed", ICMP, 0x102, [(50, 200, 0), (25, 200, 0), (0, 200, 0)], echo)
seed("echo_overlap", ICMP, 0x103, [(0, 208, 0), (24, 208, 0), (48, 216, 0)], echo)
seed("echo_duplicate", ICMP, 0x104, [(0, 200, 8), (25, 200, 0), (50, 200, 8)], echo)
seed("echo_hole", ICMP, 0x105, [(0, 200, 0), (50, 200, 0)], echo)
seed("echo_lying_mf", ICMP, 0x106, [(0, 200, 0), (25, 200, 2), (50, 200, 1)], echo)
udp = struct.pack(">HHHH", 40000, 7, 0, 0) + bytes(range(200))
seed("udp_two", UDP, 0x201, [(0, 104, 0), (13, 104, 0)], udp)
tcp = struct.pack(">HHIIBBHHH", 40000, 7, 1000, 0, 0x50, 0x02, 65535, 0, 0)
seed("tcp_syn_split", TCP, 0x301, [(0, 8, 0), (1, 12, 0)], tcp)
