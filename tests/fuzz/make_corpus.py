#!/usr/bin/python3
"""Write the hand-made seed corpora under tests/fuzz/corpus/LAYER/.

Each seed is a valid or nearly valid input for that layer's target (see
fuzz_net.c for how the target wraps the bytes). Run again to regenerate."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
US_MAC = bytes.fromhex("020000000002")
PEER_MAC = bytes.fromhex("020000000001")
US_IP = bytes([192, 0, 2, 2])
PEER_IP = bytes([192, 0, 2, 1])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src=PEER_IP, dst=US_IP, flags_frag=0x4000, ihl=5, opts=b""):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(payload), 0x1234,
                      flags_frag, 64, proto, 0, src, dst) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def icmp(typ, code, rest, data):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


def eth(dst, ethertype, payload):
    return dst + PEER_MAC + struct.pack("!H", ethertype) + payload


echo = icmp(8, 0, struct.pack("!HH", 0x77, 1), bytes(range(56)))
arp_req = arp(1, PEER_MAC, PEER_IP, b"\0" * 6, US_IP)
arp_rep = arp(2, PEER_MAC, PEER_IP, US_MAC, US_IP)
unreach = icmp(3, 3, b"\0\0\0\0", ipv4(17, struct.pack("!HHHH", 5000, 53, 8, 0))[:28])
seeds = {
    "frame": {
        "arp_request": eth(b"\xff" * 6, 0x0806, arp_req),
        "arp_reply": eth(US_MAC, 0x0806, arp_rep),
        "echo": eth(US_MAC, 0x0800, ipv4(1, echo)),
        "udp": eth(US_MAC, 0x0800, ipv4(17, struct.pack("!HHHH", 5000, 7, 12, 0) + b"abcd")),
        "fragment": eth(US_MAC, 0x0800, ipv4(1, echo[:24], flags_frag=0x2000)),
        "options": eth(US_MAC, 0x0800, ipv4(1, echo, ihl=6, opts=b"\x01\x01\x01\x00")),
    },
    # First byte: flags (bit 7: broadcast destination MAC).
    "arp": {"request": b"\x80" + arp_req, "reply": b"\x00" + arp_rep,
            "gratuitous": b"\x80" + arp(1, PEER_MAC, PEER_IP, b"\0" * 6, PEER_IP),
            "conflict": b"\x00" + arp(2, PEER_MAC, US_IP, b"\xff" * 6, US_IP)},
    # First byte: flags (bit 0: fix the checksum; bit 7: broadcast).
    "ipv4": {"echo": b"\x01" + ipv4(1, echo), "tcp": b"\x01" + ipv4(6, b"\0" * 20),
             "fragment": b"\x01" + ipv4(1, echo[:24], flags_frag=0x2000),
             "bad_ihl": b"\x01" + bytes([0x44]) + ipv4(1, echo)[1:]},
    "icmp": {"echo": b"\x01" + echo, "unreach": b"\x01" + unreach,
             "reply": b"\x01" + icmp(0, 0, struct.pack("!HH", 0x77, 1), b"x" * 8),
             "bcast_echo": b"\x81" + echo},
}

for layer, items in seeds.items():
    d = os.path.join(HERE, "corpus", layer)
    os.makedirs(d, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
print("seeds written")
