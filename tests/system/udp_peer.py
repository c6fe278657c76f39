#!/usr/bin/python3
"""Linux side of tests/system/udp.sh (run with /usr/bin/python3 inside the
test's network namespace; standard library only).

  udp_peer.py client ADDR PORT COUNT [WINDOW]
      Send COUNT datagrams of sizes spread over 0..1472 to ADDR:PORT, up to
      WINDOW outstanding, and check that each echo is byte-identical to what
      was sent. Lost datagrams are retransmitted after a timeout (at most 5
      times). Prints one summary line; exit 0 only if every datagram came
      back intact.
  udp_peer.py refused ADDR PORT
      Send one datagram on a connected socket to a closed port: the ICMP port
      unreachable must surface as ConnectionRefusedError. Exit 0 if so.
  udp_peer.py echo ADDR PORT
      Echo server (RFC 862) until SIGTERM; then prints how many datagrams it
      echoed and exits 0.

An ADDR with a colon is IPv6 (tests/system/udp6.sh): the sockets are
AF_INET6 and the sizes stop at 1452 (a 1500-byte packet with the 40-byte
header).
"""
import signal
import socket
import sys
import time

MAX = 1472
MAX6 = 1452


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(addr, port):
    # getaddrinfo resolves a link-local's %interface into its scope id.
    return socket.getaddrinfo(addr, port, family(addr), socket.SOCK_DGRAM)[0][4]


def payload(i, size):
    # Bytes that depend on the datagram number and the position, so a
    # shifted, truncated or misdelivered echo is caught.
    return bytes(((k * 31 + i * 7 + (k >> 8) + 0x5A) & 0xFF) for k in range(size))


def sizes(count, mx=MAX):
    return [(i * mx // (count - 1)) if count > 1 else 0 for i in range(count)]


def client(addr, port, count, window):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect(sockaddr(addr, port))
    s.settimeout(0.5)
    szs = sizes(count, MAX6 if family(addr) == socket.AF_INET6 else MAX)
    # A 4-byte number in front (when the datagram has room) lets a window
    # match echoes; smaller ones are matched by content.
    def build(i):
        data = payload(i, szs[i])
        if szs[i] >= 4:
            data = i.to_bytes(4, "big") + data[4:]
        return data

    # Built once up front: the timing then measures the network, not Python.
    table = [build(i) for i in range(count)]

    def make(i):
        return table[i]

    pending = {}  # number -> (data, sends)
    nxt = 0
    echoed = corrupt = dups = retrans = 0
    done = set()
    start = time.monotonic()
    while len(done) < count:
        while nxt < count and len(pending) < window:
            data = make(nxt)
            s.send(data)
            pending[nxt] = (data, 1)
            nxt += 1
        try:
            got = s.recv(2048)
        except socket.timeout:
            for i, (data, sends) in list(pending.items()):
                if sends > 5:
                    print(f"client: datagram {i} ({len(data)} bytes) lost {sends} times")
                    return 1
                s.send(data)
                pending[i] = (data, sends + 1)
                retrans += 1
            continue
        match = None
        if len(got) >= 4:
            i = int.from_bytes(got[:4], "big")
            if i < count and szs[i] == len(got):
                match = i
        else:
            for i in pending:
                if szs[i] == len(got):
                    match = i
                    break
            if match is None:
                for i in done:
                    if szs[i] == len(got) and got == make(i):
                        match = i
                        break
        if match is None or got != make(match):
            corrupt += 1
            print(f"client: echo of {len(got)} bytes matches nothing sent")
            continue
        if match in done:
            dups += 1  # the echo of a retransmission
            continue
        done.add(match)
        pending.pop(match, None)
        echoed += 1
    ms = (time.monotonic() - start) * 1000
    print(f"client: {count} sent, {echoed}/{count} echoed byte-identical, {corrupt} corrupted, "
          f"{retrans} retransmitted, {dups} duplicate echoes, window {window}, sizes 0..{max(szs)}, "
          f"{ms:.0f} ms ({count * 1000 / ms if ms else 0:.0f} datagrams/s)")
    return 0 if echoed == count and corrupt == 0 else 1


def refused(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect(sockaddr(addr, port))
    s.settimeout(2.0)
    s.send(b"anyone there?")
    try:
        s.recv(2048)
    except ConnectionRefusedError:
        print(f"refused: ICMP port unreachable from {addr}:{port} -> ECONNREFUSED")
        return 0
    except socket.timeout:
        print(f"refused: no answer from {addr}:{port} (expected port unreachable)")
        return 1
    print("refused: got a datagram back from a closed port")
    return 1


def echo(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(sockaddr(addr, port))
    count = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s.settimeout(0.2)
    print(f"echo: listening on {addr}:{port}", flush=True)
    while not stop:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        s.sendto(data, peer)
        count += 1
    print(f"echo: {count} datagrams echoed", flush=True)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "client":
        window = int(argv[5]) if len(argv) > 5 else 1
        return client(argv[2], int(argv[3]), int(argv[4]), window)
    if len(argv) == 4 and argv[1] == "refused":
        return refused(argv[2], int(argv[3]))
    if len(argv) == 4 and argv[1] == "echo":
        return echo(argv[2], int(argv[3]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
