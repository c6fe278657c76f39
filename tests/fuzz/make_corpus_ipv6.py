#!/usr/bin/python3
"""Seeds for the fuzz_ipv6_* targets (tests/fuzz/fuzz_ipv6.c): extension
header chains, ICMPv6 messages and ND messages with options. The first byte
of each seed is the target's flags byte (see fuzz_build). Usage:
make_corpus_ipv6.py [DIR] (default tests/fuzz/corpus next to this script;
writes ipv6_chain/, ipv6_icmp/, ipv6_nd/, ipv6_frag/)."""
import os
import struct
import sys

base = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
PREFIX = bytes([0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0]) + bytes(8)
OUR_LL = bytes([0xFE, 0x80] + [0] * 9 + [0xFF, 0xFE, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])


def write(target, name, data):
    d = os.path.join(base, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


echo = bytes([128, 0, 0, 0, 0x12, 0x34, 0, 1]) + bytes(range(32))


def dest_opts(nxt, opt_type, data_len=4):
    body = bytes([opt_type, data_len]) + bytes(data_len)
    pad = (-(2 + len(body))) % 8
    if pad == 1:
        body += b"\x00"
    elif pad:
        body += bytes([1, pad - 2]) + bytes(pad - 2)
    return bytes([nxt, (2 + len(body)) // 8 - 1]) + body


# chain: flags & 7 picks the first next header (0 hbh, 1 dest, 2 routing,
# 3 fragment, 4 icmpv6, 5 none, 6 udp, 7 tcp).
write("ipv6_chain", "hbh_echo", bytes([0]) + dest_opts(58, 5, 2) + echo)
write("ipv6_chain", "dest_unknown_skip", bytes([1]) + dest_opts(58, 0x1E) + echo)
write("ipv6_chain", "dest_unknown_icmp", bytes([1]) + dest_opts(58, 0x9E) + echo)
write("ipv6_chain", "dest_chain", bytes([1]) + dest_opts(60, 1) + dest_opts(60, 1) + dest_opts(58, 1) + echo)
write("ipv6_chain", "rh0_segments", bytes([2]) + bytes([58, 2, 0, 1, 0, 0, 0, 0]) + bytes(16) + echo)
write("ipv6_chain", "atomic_fragment", bytes([3]) + bytes([58, 0, 0, 0, 0, 0, 0, 1]) + echo)
write("ipv6_chain", "first_fragment", bytes([3]) + bytes([58, 0, 0, 1, 0, 0, 0, 2]) + echo)
write("ipv6_chain", "udp", bytes([6]) + struct.pack(">HHHH", 1000, 7, 16, 0) + bytes(8))

# icmp: flags 1 fixes the checksum, 2 sets hop limit 255, 0x80 to all-nodes.
write("ipv6_icmp", "echo", bytes([1]) + echo)
write("ipv6_icmp", "echo_mcast", bytes([0x81]) + echo)
write("ipv6_icmp", "error", bytes([1]) + bytes([1, 4, 0, 0, 0, 0, 0, 0]) + bytes(48))
write("ipv6_icmp", "mld_query", bytes([0x83]) + bytes([130, 0, 0, 0, 0x03, 0xE8, 0, 0]) + bytes(20))

# nd: type = (flags & 0x3f) % 5 -> RS, RA, NS, NA, redirect; 0x20 puts our
# address in an NS/NA target. The type and code bytes are overwritten.
slla = bytes([1, 1]) + PEER_MAC
prefix = bytes([3, 4, 64, 0xC0]) + struct.pack(">II", 3600, 1800) + bytes(4) + PREFIX
rdnss = bytes([25, 3, 0, 0]) + struct.pack(">I", 600) + PREFIX[:15] + b"\x53"
mtu = bytes([5, 1, 0, 0]) + struct.pack(">I", 1400)
write("ipv6_nd", "rs", bytes([0]) + bytes(8) + slla)
write("ipv6_nd", "ra_full", bytes([1]) + bytes([134, 0, 0, 0, 64, 0]) + struct.pack(">HII", 1800, 0, 0) + slla + mtu + prefix + rdnss)
write("ipv6_nd", "ns", bytes([2 | 0x40]) + bytes(8) + OUR_LL + slla)
write("ipv6_nd", "na", bytes([3 | 0x20]) + bytes([136, 0, 0, 0, 0x60, 0, 0, 0]) + OUR_LL + bytes([2, 1]) + PEER_MAC)
write("ipv6_nd", "redirect", bytes([4]) + bytes(8) + OUR_LL + OUR_LL)


# frag: flags (0-1 next header 58/60/17/44, 0x80 fix the checksum), count-1,
# records (offset/M field, length, id), then the message.
def frag(flags, recs, message):
    out = bytes([flags, len(recs) - 1])
    for field, length, ident in recs:
        out += struct.pack(">HHB", field, length, ident)
    return out + message


big_echo = bytes([128, 0, 0, 0, 0x12, 0x34, 0, 2]) + bytes(i % 251 for i in range(3000))
small_echo = bytes([128, 0, 0, 0, 0x12, 0x34, 0, 3]) + bytes(range(200))
write("ipv6_frag", "two_in_order", frag(0x80, [(0 | 1, 104, 0), (104, 104, 0)], small_echo))
write("ipv6_frag", "two_reversed", frag(0x80, [(104, 104, 0), (0 | 1, 104, 0)], small_echo))
write("ipv6_frag", "beyond_buffer", frag(0x80, [(0 | 1, 1448, 0), (1448 | 1, 1448, 0), (2896, 112, 0)], big_echo))
write("ipv6_frag", "overlap", frag(0x80, [(0 | 1, 104, 1), (96 | 1, 16, 1), (112, 96, 1)], small_echo))
write("ipv6_frag", "odd_middle", frag(0x80, [(0 | 1, 100, 2)], small_echo))
write("ipv6_frag", "past_65535", frag(0x80, [(65528, 16, 2)], small_echo))
write("ipv6_frag", "two_datagrams", frag(0x80, [(0 | 1, 104, 0), (0 | 1, 104, 1), (104, 104, 1), (104, 104, 0)], small_echo))
write("ipv6_frag", "dest_opts_chain", frag(0x81, [(0 | 1, 8, 3)], bytes([58, 1]) + bytes(14)))
