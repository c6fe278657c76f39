#!/usr/bin/env bash
# Existing BSD sockets code on tern (tests/compat/bsd_echo.c, compiled
# against tern/compat/bsd_sockets.h with the opt-in names) run on a TAP
# against Linux peers in a namespace: the select() TCP echo server with two
# clients at once, the poll()/recvfrom() UDP echo, connect() to a Linux
# listener, and errno for a refused connect.
. "$(dirname "$0")/lib/common.sh"
sys_init compatbsd
compat_start bsd

compat_peer "BSD-code checks failed" <<'PY'
got = ask(b"hello bsd udp")
if got != b"hello bsd udp":
    sys.exit("udp echo: got %r" % (got,))
print("udp echo ok")

# two TCP clients at once: the select() loop serves both
a = socket.create_connection(T, timeout=5)
b = socket.create_connection(T, timeout=5)
for rnd in range(20):
    for s, tag in ((a, b"A"), (b, b"B")):
        msg = tag * 100 + b"%d\n" % rnd
        s.sendall(msg)
        back = b""
        while len(back) < len(msg):
            c = s.recv(4096)
            if not c:
                sys.exit("tcp echo: closed early")
            back += c
        if back != msg:
            sys.exit("tcp echo: %r != %r" % (back[:20], msg[:20]))
big = bytes(range(256)) * 64
a.sendall(big)
back = b""
while len(back) < len(big):
    c = a.recv(65536)
    if not c:
        break
    back += c
if back != big:
    sys.exit("tcp echo: 16 KB came back as %d bytes" % len(back))
a.close(); b.close()
print("tcp echo ok")

# connect() from the BSD code to a Linux listener
l = socket.socket(); l.bind(("192.0.2.1", 9100)); l.listen(1); l.settimeout(5)
got = ask(b"connect 9100")
if got != b"connected":
    sys.exit("connect back: %r" % (got,))
c, _ = l.accept(); c.settimeout(5)
line = b""
while not line.endswith(b"\n"):
    d = c.recv(100)
    if not d:
        break
    line += d
if line != b"hello from bsd code\n":
    sys.exit("connect back: received %r" % (line,))
print("connect ok")

# nothing listens on 9101: Linux resets, errno is ECONNREFUSED
got = ask(b"connect 9101")
if got is None or not got.endswith(b"ECONNREFUSED"):
    sys.exit("refused connect: %r" % (got,))
print("errno ok:", got.decode())
PY
pass "UDP echo (poll+recvfrom), TCP echo (select, 2 clients), connect, errno ECONNREFUSED"
grep -q '^bsd: accepted 192\.0\.2\.1:' "$LOG" || fail "accept() did not report the peer address"
pass "accept() fills sockaddr_in"
stop_demo || fail "tern-compat-bsd exited with an error"
