#!/usr/bin/python3
"""Write the hand-made seeds for fuzz_dhcp and fuzz_dns under
tests/fuzz/corpus/{dhcp,dns}/ (input formats: the comments at the top of
fuzz_dhcp.c and fuzz_dns.c). Run again to regenerate."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUR_MAC = bytes.fromhex("020000000002")
SRV = bytes([192, 0, 2, 1])


def dhcp_reply(mtype, yiaddr=b"\xc0\x00\x02\x32", lease=3600, extra=b"", overload=False):
    m = bytearray(240)
    m[0:4] = b"\x02\x01\x06\x00"
    m[10:12] = b"\x80\x00"
    m[16:20] = yiaddr
    m[20:24] = SRV
    m[28:34] = OUR_MAC
    m[236:240] = b"\x63\x82\x53\x63"
    opts = bytes([53, 1, mtype, 54, 4]) + SRV
    if mtype != 6:
        opts += bytes([51, 4]) + struct.pack("!I", lease)
        opts += bytes([1, 4, 255, 255, 255, 0, 3, 4]) + SRV + bytes([6, 8, 192, 0, 2, 53, 192, 0, 2, 54])
    opts += extra
    if overload:
        m[108:108 + 7] = bytes([58, 4]) + struct.pack("!I", lease // 2) + b"\xff"
        opts = bytes([52, 1, 1]) + opts
    m += opts + b"\xff"
    m += bytes(max(0, 300 - len(m)))
    return bytes(m)


def frame(msg, flags=0x07, adv=0):
    return bytes([flags, adv]) + struct.pack("!H", len(msg)) + msg


def name(dotted):
    out = b""
    for label in dotted.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_resp(qname, answers=b"", ancount=1, flags=0x8180):
    return struct.pack("!HHHHHH", 0, flags, 1, ancount, 0, 0) + name(qname) + b"\x00\x01\x00\x01" + answers


def rr_a(owner, ttl, addr):
    return owner + struct.pack("!HHIH", 1, 1, ttl, 4) + bytes(addr)


def rr_cname(owner, ttl, target):
    return owner + struct.pack("!HHIH", 5, 1, ttl, len(target)) + target


def dns_frame(msg, flags=0x01):
    return bytes([flags]) + struct.pack("!H", len(msg)) + msg


def write(sub, fname, data):
    with open(os.path.join(HERE, "corpus", sub, fname), "wb") as f:
        f.write(data)


# DHCP: OFFER then ACK (advance 20: 25.6 s, past the ARP probes) ...
offer, ack = dhcp_reply(2), dhcp_reply(5)
write("dhcp", "offer_ack", frame(offer) + frame(ack, adv=20))
# ... then a renewal ACK after T1 (adv 168: 30 min) and one after T2
write("dhcp", "renew_rebind", frame(offer) + frame(ack, adv=20) + frame(ack, adv=168) + frame(ack, adv=235))
write("dhcp", "nak", frame(offer) + frame(dhcp_reply(6)))
write("dhcp", "overload", frame(dhcp_reply(2, overload=True)) + frame(dhcp_reply(5, overload=True), adv=20))
write("dhcp", "short_lease_expiry", frame(offer) + frame(dhcp_reply(5, lease=120), adv=20) + frame(offer, adv=60))
write("dhcp", "raw_offer", frame(offer, flags=0))

# DNS: the lookup is for names[byte 0] of fuzz_dns.c; 0 is host.example.
ptr = b"\xc0\x0c"
write("dns", "answer", b"\x00" + dns_frame(dns_resp("host.example", rr_a(ptr, 300, [198, 51, 100, 10]))))
web = name("web.example")
chain = rr_cname(ptr, 300, web) + rr_a(b"\xc0\x2a", 60, [198, 51, 100, 11])
write("dns", "cname", b"\x00" + dns_frame(dns_resp("host.example", chain, ancount=2)))
write("dns", "nxdomain", b"\x00" + dns_frame(dns_resp("host.example", ancount=0, flags=0x8183)))
write("dns", "servfail_then_answer",
      b"\x00" + dns_frame(dns_resp("host.example", ancount=0, flags=0x8182))
      + dns_frame(dns_resp("host.example", rr_a(ptr, 300, [198, 51, 100, 10])), flags=0x09))
write("dns", "loop", b"\x00" + dns_frame(dns_resp("host.example", rr_a(b"\xc0\x1e", 300, [1, 2, 3, 4]))))
write("dns", "www", b"\x01" + dns_frame(dns_resp("www.example.com", rr_a(ptr, 5, [198, 51, 100, 12]))))
