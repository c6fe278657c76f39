#!/usr/bin/env python3
"""Board tests: the mps2-an500 firmware (ports/mps2-an500) in QEMU, against
the Linux kernel over a TAP in a network namespace the test makes, in the
style of tests/system/lib/common.sh.

    board.py TEST FIRMWARE.elf     boot | tcp | http | flood | fault
    board.py measure FIRMWARE.elf  boot on user-mode networking (no root) and
                                   print the memory summary (make firmware)

Every test boots the board with the UART on a pipe (the console), takes a
lease from dnsmasq, runs its traffic from the namespace, and reads the
board's `memsum` line after each part: heap free back at its baseline and no
failed allocation unless the part expects some. A fault printed by the
firmware (its fault handler, or QEMU ending with status 1) fails the test
with the registers shown. Exit 77: skipped (no root, no /dev/net/tun, a
tool missing)."""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST_IP = "192.0.2.1"
MAC = "02:00:00:b0:a4:01"
FAILED = False


class BoardFault(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def fail(msg):
    raise AssertionError(msg)


class Board:
    """QEMU running the firmware; the console on stdin/stdout pipes."""

    def __init__(self, elf, net_args, prefix=(), logfile=None, icount=False):
        argv = list(prefix) + ["qemu-system-arm", "-M", "mps2-an500", "-kernel", elf, "-display", "none",
                               "-serial", "stdio", "-monitor", "none",
                               "-semihosting-config", "enable=on,target=native"] + net_args
        if icount:
            argv += ["-icount", "shift=0"]
        self.out = b""
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.logf = open(logfile, "wb") if logfile else None
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(4096)
            with self.cond:
                if not chunk:
                    self.cond.notify_all()
                    return
                self.out += chunk
                if self.logf:
                    self.logf.write(chunk)
                    self.logf.flush()
                self.cond.notify_all()

    def text(self, start=0):
        with self.lock:
            return self.out[start:].decode("latin-1")

    def check_fault(self):
        """Raise BoardFault with the firmware's report when it faulted."""
        t = self.text()
        i = t.find("*** FAULT")
        if i >= 0 or self.proc.poll() not in (None, 0):
            deadline = time.time() + 3
            while "halting" not in self.text() and self.proc.poll() is None and time.time() < deadline:
                time.sleep(0.05)
            t = self.text()
            i = t.find("*** FAULT")
            report = t[i:] if i >= 0 else t[-800:]
            raise BoardFault("board fault (QEMU exit status %s):\n%s" % (self.proc.poll(), report))

    def wait_for(self, pattern, timeout, start=0):
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            with self.cond:
                m = rx.search(self.out[start:].decode("latin-1"))
                if m is None:
                    self.cond.wait(0.1)
            self.check_fault()
            if m is not None:
                return m
            if time.time() > deadline:
                fail("board: no %r within %d s; console tail:\n%s" % (pattern, timeout, self.text()[-1500:]))

    def cmd(self, line, pattern, timeout=20):
        with self.lock:
            start = len(self.out)
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self.wait_for(pattern, timeout, start)

    def memsum(self):
        m = self.cmd("memsum", r"memsum: heap free (\d+) min (\d+) of (\d+), netbufs free (\d+) min (\d+) of (\d+), "
                     r"heap failures (\d+), stack high-water (\d+) of (\d+)")
        keys = ("heap_free", "heap_min", "heap_total", "bufs_free", "bufs_min", "bufs_total", "failures",
                "stack", "stack_size")
        return dict(zip(keys, (int(g) for g in m.groups())))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.logf:
            self.logf.close()


# ---- namespace and TAP ---------------------------------------------------------

class Net:
    def __init__(self, name):
        self.ns = "tern-b%s-%d" % (name, os.getpid())
        self.tap = "tern-bt0"
        self.tmp = tempfile.mkdtemp(prefix="tern-board-%s." % name)
        self.procs = []

    def sh(self, *args, check=True, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns] + list(args), check=check, **kw)

    def up(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.sh("ip", "link", "set", "lo", "up")
        self.sh("ip", "tuntap", "add", self.tap, "mode", "tap")
        self.sh("ip", "addr", "add", HOST_IP + "/24", "dev", self.tap)
        self.sh("ip", "link", "set", self.tap, "up")
        lease = os.path.join(self.tmp, "leases")
        d = subprocess.Popen(["ip", "netns", "exec", self.ns, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                              "--port=0", "--interface=" + self.tap, "--bind-interfaces",
                              "--dhcp-range=192.0.2.50,192.0.2.59,255.255.255.0,10m",
                              "--dhcp-leasefile=" + lease, "--log-dhcp"],
                             stdout=open(os.path.join(self.tmp, "dnsmasq.log"), "wb"), stderr=subprocess.STDOUT)
        self.procs.append(d)

    def board(self, elf, logname="board.log"):
        b = Board(elf, ["-nic", "tap,ifname=%s,script=no,downscript=no,model=lan9118,mac=%s" % (self.tap, MAC)],
                  prefix=["ip", "netns", "exec", self.ns], logfile=os.path.join(self.tmp, logname))
        self.procs.append(b)
        return b

    def down(self):
        for p in self.procs:
            if isinstance(p, Board):
                p.stop()
            elif p.poll() is None:
                p.kill()
                p.wait()
        pids = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)

    def logs(self):
        for f in sorted(os.listdir(self.tmp)):
            p = os.path.join(self.tmp, f)
            if f.endswith(".log"):
                with open(p, "rb") as fh:
                    tail = fh.read().decode("latin-1").splitlines()[-40:]
                log("---- %s (last 40 lines)" % f)
                log("\n".join(tail))


def boot(net, elf):
    b = net.board(elf)
    m = b.wait_for(r"board: address (\d+\.\d+\.\d+\.\d+) \(dhcp\)", 60)
    addr = m.group(1)
    if not addr.startswith("192.0.2.5"):
        fail("lease %s is not from dnsmasq's range" % addr)
    log("ok: boot and a DHCP lease from dnsmasq: %s" % addr)
    # Baseline once the lease is held and the ARP entry for us exists.
    net.sh("ping", "-c", "1", "-W", "5", addr, stdout=subprocess.DEVNULL)
    return b, addr, b.memsum()


def check_memory(b, base, tag, failures_ok=False, secs=40):
    deadline = time.time() + secs
    while True:
        m = b.memsum()
        if m["heap_free"] == base["heap_free"] and m["bufs_free"] == base["bufs_free"]:
            break
        if time.time() > deadline:
            b.cmd("mem", r"stack high-water")
            b.cmd("netstat", r"sockets")
            fail("%s: heap free %d (baseline %d), netbufs free %d (baseline %d)" %
                 (tag, m["heap_free"], base["heap_free"], m["bufs_free"], base["bufs_free"]))
        time.sleep(1)
    if not failures_ok and m["failures"] != base["failures"]:
        fail("%s: %d failed allocations" % (tag, m["failures"] - base["failures"]))
    log("ok: %s: heap free %d = baseline, network buffers %d = baseline, failed allocations %d, "
        "stack high-water %d of %d" % (tag, m["heap_free"], m["bufs_free"], m["failures"] - base["failures"],
                                       m["stack"], m["stack_size"]))
    return m


# ---- ICMP from the namespace (raw socket: this process runs inside it) ------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping_sweep(addr, lo, hi):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2.0)
    ident = os.getpid() & 0xFFFF
    lost = []
    for size in range(lo, hi + 1):
        payload = bytes((size * 7 + i) & 0xFF for i in range(size))
        ok = False
        for attempt in range(3):
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, size)
            pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, size) + payload
            s.sendto(pkt, (addr, 0))
            deadline = time.time() + 2
            while time.time() < deadline:
                try:
                    data, src = s.recvfrom(4096)
                except socket.timeout:
                    break
                ihl = (data[0] & 0xF) * 4
                icmp = data[ihl:]
                if src[0] == addr and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, size):
                    if icmp[8:] != payload:
                        fail("ping size %d: reply payload differs" % size)
                    ok = True
                    break
            if ok:
                break
            if attempt == 0:
                lost.append(size)
        if not ok:
            fail("ping size %d: no reply in 3 tries" % size)
    return lost


# ---- TCP echo from the namespace ------------------------------------------------

def echo_transfer(addr, nbytes, port=7, seed=1):
    """Send nbytes of pseudo-random data through echo while reading the echo
    back; compare SHA-256 of both sides. Returns seconds taken."""
    blob = hashlib.sha256(b"tern%d" % seed).digest() * 2048  # 64 KB pattern
    s = socket.create_connection((addr, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    got = [0]
    err = []

    def reader():
        try:
            while got[0] < nbytes:
                d = s.recv(65536)
                if not d:
                    break
                got_hash.update(d)
                got[0] += len(d)
        except Exception as e:  # noqa: BLE001 - reported below
            err.append(e)

    t0 = time.time()
    th = threading.Thread(target=reader)
    th.start()
    left = nbytes
    i = 0
    while left > 0:
        chunk = blob[(i * 1009) % 4096:][:min(left, 32768)]
        s.sendall(chunk)
        sent_hash.update(chunk)
        left -= len(chunk)
        i += 1
    th.join(600)
    s.close()
    if err:
        fail("echo: %s" % err[0])
    if got[0] != nbytes:
        fail("echo: %d bytes back of %d" % (got[0], nbytes))
    if got_hash.digest() != sent_hash.digest():
        fail("echo: the bytes back differ from the bytes sent (SHA-256)")
    return time.time() - t0


def inner(argv):
    """Helpers run inside the namespace by the tests (ip netns exec)."""
    what = argv[0]
    if what == "pingsweep":
        lost = ping_sweep(argv[1], int(argv[2]), int(argv[3]))
        print("pingsweep: ok, retried sizes: %s" % (lost or "none"))
    elif what == "echo":
        addr, nbytes, conns = argv[1], int(argv[2]), int(argv[3])
        if conns == 1:
            t = echo_transfer(addr, nbytes)
            print("echo: %d bytes each way byte-exact in %.1f s (%.0f kbit/s each way)" %
                  (nbytes, t, nbytes * 8 / t / 1000))
        else:
            errs = []
            t0 = time.time()

            def one(k):
                try:
                    echo_transfer(addr, nbytes, seed=k)
                except Exception as e:  # noqa: BLE001
                    errs.append("connection %d: %s" % (k, e))
            ths = [threading.Thread(target=one, args=(k,)) for k in range(conns)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            if errs:
                fail("; ".join(errs))
            print("echo: %d connections at once, %d bytes each way each, byte-exact, %.1f s" %
                  (conns, nbytes, time.time() - t0))
    elif what in ("source", "sink"):
        addr, nbytes = argv[1], int(argv[2])
        blob = bytes(range(256)) * 256
        t0 = time.time()
        if what == "source":  # to the board's discard service
            s = socket.create_connection((addr, 9), timeout=60)
            left = nbytes
            while left > 0:
                s.sendall(blob[:min(left, len(blob))])
                left -= min(left, len(blob))
            s.shutdown(socket.SHUT_WR)
            s.settimeout(30)
            while s.recv(4096):
                pass
        else:  # from the board's chargen service
            s = socket.create_connection((addr, 19), timeout=60)
            got = 0
            while got < nbytes:
                d = s.recv(65536)
                if not d:
                    fail("chargen closed after %d bytes" % got)
                got += len(d)
        s.close()
        print("%s: %d bytes in %.3f s" % (what, nbytes, time.time() - t0))
    else:
        fail("unknown helper " + what)


# ---- the tests ---------------------------------------------------------------------

def in_ns(net, *args, timeout=900):
    r = net.sh(sys.executable, os.path.abspath(__file__), "--inner", *args, capture_output=True, text=True,
               timeout=timeout, check=False)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0:
        # A client failing because the board died: report the fault itself.
        for p in net.procs:
            if isinstance(p, Board):
                p.check_fault()
        fail(out)
    return out


def test_boot(net, elf):
    b, addr, base = boot(net, elf)
    log("   " + in_ns(net, "pingsweep", addr, "0", "1472"))
    log("ok: ping at every size 0..1472 answered, payload intact")
    r = net.sh("ping", "-f", "-c", "2000", "-s", "56", addr, capture_output=True, text=True, check=False)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    if not m or m.group(1) != m.group(2):
        fail("flood ping: %s" % r.stdout.strip()[-300:])
    log("ok: flood ping, %s of %s answered" % (m.group(2), m.group(1)))
    r = net.sh("ping", "-f", "-c", "300", "-s", "1472", addr, capture_output=True, text=True, check=False)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    if not m or m.group(1) != m.group(2):
        fail("flood ping 1472: %s" % r.stdout.strip()[-300:])
    log("ok: flood ping at 1472 bytes, %s of %s answered" % (m.group(2), m.group(1)))
    check_memory(b, base, "after the pings")


def test_tcp(net, elf):
    b, addr, base = boot(net, elf)
    size = int(os.environ.get("TERN_BOARD_ECHO_BYTES", str(10 * 1024 * 1024)))
    log("   " + in_ns(net, "echo", addr, str(size), "1"))
    log("ok: TCP echo, %d bytes each way, SHA-256 equal" % size)
    check_memory(b, base, "after the 10 MB echo")
    per = int(os.environ.get("TERN_BOARD_ECHO8_BYTES", str(512 * 1024)))
    log("   " + in_ns(net, "echo", addr, str(per), "8"))
    log("ok: 8 TCP echo connections at once, %d bytes each way each, SHA-256 equal" % per)
    check_memory(b, base, "after the 8 connections")
    if os.environ.get("TERN_BOARD_SHOW_MEM"):
        with b.lock:
            start = len(b.out)
        b.cmd("mem", r"board: main stack high-water.*\n")
        log(b.text(start))


WWW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "apps", "http", "www")


def test_http(net, elf):
    b, addr, base = boot(net, elf)
    for f in sorted(os.listdir(WWW)):
        want = open(os.path.join(WWW, f), "rb").read()
        r = net.sh("curl", "-fsS", "--max-time", "20", "http://%s/%s" % (addr, f), capture_output=True, check=False)
        if r.returncode != 0 or r.stdout != want:
            fail("GET /%s: curl %d, %d bytes (want %d) %s" % (f, r.returncode, len(r.stdout), len(want),
                                                               r.stderr.decode()[-200:]))
        r = net.sh("curl", "-fsS", "--compressed", "--max-time", "20", "http://%s/%s" % (addr, f),
                   capture_output=True, check=False)
        if r.returncode != 0 or r.stdout != want:
            fail("GET /%s (gzip): curl %d" % (f, r.returncode))
    log("ok: every dashboard file byte-exact, identity and gzip")
    r = net.sh("curl", "-fsS", "--max-time", "20", "http://%s/api/stats" % addr, capture_output=True, check=False)
    import json
    st = json.loads(r.stdout)
    for k in ("heap", "ledger", "lan9118", "http"):
        if k not in st:
            fail("/api/stats has no %r section" % k)
    if st["lan9118"]["rx_frames"] == 0:
        fail("/api/stats: lan9118 counted no frames")
    log("ok: /api/stats is JSON with heap, ledger, http and lan9118 sections")
    chromium = shutil.which("chromium")
    if chromium:
        prof = os.path.join(net.tmp, "chrome")
        r = net.sh(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + prof,
                   "--virtual-time-budget=8000", "--dump-dom", "http://%s/" % addr, capture_output=True,
                   text=True, timeout=120, check=False)
        dom = r.stdout
        m = re.search(r'id="chart-span"[^>]*>\((\d+)', dom)
        if m is None or 'id="heap-figures"' not in dom or "<polyline" not in dom:
            fail("chromium: the dashboard did not render its chart (%s)" % dom[-400:])
        log("ok: headless Chromium rendered the board's dashboard (chart with %s points)" % m.group(1))
    else:
        log("note: chromium not installed: render check skipped")
    check_memory(b, base, "after the dashboard")
    if os.environ.get("TERN_BOARD_SHOW_MEM"):
        with b.lock:
            start = len(b.out)
        b.cmd("mem", r"board: main stack high-water.*\n")
        log(b.text(start))


def test_flood(net, elf):
    b, addr, base = boot(net, elf)
    floods = [
        ["hping3", "-q", "-S", "-p", "7", "-i", "u200", "-c", "20000", "--rand-source", addr],
        ["hping3", "-q", "--udp", "-p", "9", "-d", "512", "-i", "u200", "-c", "20000", addr],
    ]
    for argv in floods:
        kind = "SYN" if "-S" in argv else "UDP"
        p = subprocess.Popen(["ip", "netns", "exec", net.ns] + argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1)
        try:
            r = net.sh("ping", "-c", "10", "-i", "0.2", "-W", "2", addr, capture_output=True, text=True,
                       check=False)
            m = re.search(r"(\d+) received", r.stdout)
            if not m or int(m.group(1)) < 8:
                fail("%s flood: ping during the flood: %s" % (kind, r.stdout.strip()[-200:]))
            log("   " + in_ns(net, "echo", addr, "65536", "1", timeout=120))
            log("ok: during the %s flood: ping answered (%s of 10), a TCP echo client byte-exact" %
                (kind, m.group(1)))
        finally:
            p.kill()
            p.wait()
        r = net.sh("ping", "-c", "5", "-i", "0.2", "-W", "2", addr, capture_output=True, text=True, check=False)
        if "5 received" not in r.stdout:
            fail("%s flood: ping after: %s" % (kind, r.stdout.strip()[-200:]))
        log("   " + in_ns(net, "echo", addr, "65536", "1", timeout=120))
        log("ok: after the %s flood: ping and TCP echo" % kind)
        # Half-open connections age out (SYN-ACK retries), UDP floods may
        # find buffers short: failures allowed here, memory must return.
        check_memory(b, base, "after the %s flood" % kind, failures_ok=True, secs=60)
    m = b.cmd("counters", r"lan9118 rx_frames (\d+)")
    b.wait_for(r"lan9118 rx_drop_register \d+", 10)
    text = b.text()
    stalls = re.findall(r"lan9118 rx_stalls (\d+)", text)[-1]
    if int(m.group(1)) < 5000:  # two floods of a few seconds at 5,000 packets/s
        fail("the floods did not reach the board: %s frames received" % m.group(1))
    log("ok: the board received %s frames through the floods (RX ring stalls: %s)" % (m.group(1), stalls))


def test_fault(net, elf):
    """The fault path itself: every kind of fault must end the board with
    its report, and this harness must turn that into a failure."""
    for kind, want in (("bus", "BusFault"), ("hard", "HardFault"), ("stack", "MemManage")):
        b = Board(elf, ["-nic", "none"], logfile=os.path.join(net.tmp, "fault-%s.log" % kind))
        net.procs.append(b)
        b.wait_for(r"tern> ", 30)
        try:
            b.cmd("fault " + kind, r"will not match", timeout=20)
        except BoardFault as e:
            rep = str(e)
            for reg in ("pc ", "lr ", "CFSR ", "HFSR ", "BFAR "):
                if reg not in rep:
                    fail("fault %s: report without %s:\n%s" % (kind, reg.strip(), rep))
            if want not in rep:
                fail("fault %s: expected a %s, got:\n%s" % (kind, want, rep))
            if kind == "stack" and "stack overflow" not in rep:
                fail("fault stack: not reported as a stack overflow:\n%s" % rep)
            b.proc.wait(10)
            if b.proc.returncode != 1:
                fail("fault %s: QEMU exit status %s, want 1" % (kind, b.proc.returncode))
            log("ok: fault %s: %s reported with the registers, QEMU exit status 1, seen as a failure"
                % (kind, want))
            log("   " + " | ".join(line.strip() for line in rep.splitlines()[:6]))
            continue
        fail("fault %s: the board did not fault" % kind)


# ---- bench and perf: throughput each way, instructions per byte ----------------

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline.txt")


def cpu_busy(b):
    m = b.cmd("cpu", r"cpu: busy (\d+)\.(\d+) us, idle (\d+)\.(\d+) us, eth rx (\d+) tx (\d+) bytes")
    return int(m.group(1)) * 1000 + int(m.group(2))


def one_way(net, b, addr, direction, nbytes):
    """direction rx: Linux sends nbytes to the board's discard (port 9); tx:
    the board's chargen (port 19) sends nbytes to Linux. Returns (seconds,
    busy ns on the board)."""
    b.cmd("cpu reset", r"cpu: busy")
    helper = "sink" if direction == "tx" else "source"
    out = in_ns(net, helper, addr, str(nbytes), timeout=600)
    secs = float(out.split()[-2])
    time.sleep(0.5)  # the close and the last ACKs
    return secs, cpu_busy(b)


def bench_run(net, elf, icount, nbytes):
    b = net.board(elf, "board-icount.log" if icount else "board.log")
    if icount:
        b.stop()
        net.procs.remove(b)
        b = Board(elf, ["-nic", "tap,ifname=%s,script=no,downscript=no,model=lan9118,mac=%s" % (net.tap, MAC)],
                  prefix=["ip", "netns", "exec", net.ns], logfile=os.path.join(net.tmp, "board-icount.log"),
                  icount=True)
        net.procs.append(b)
    addr = b.wait_for(r"board: address (\d+\.\d+\.\d+\.\d+) \(dhcp\)", 60).group(1)
    net.sh("ping", "-c", "1", "-W", "5", addr, stdout=subprocess.DEVNULL)
    res = {}
    for direction in ("rx", "tx"):
        res[direction] = one_way(net, b, addr, direction, nbytes)
    b.stop()
    net.procs.remove(b)
    return res


def bench(net, elf, nbytes):
    fast = bench_run(net, elf, False, nbytes)
    counted = bench_run(net, elf, True, nbytes)
    fig = {}
    for d in ("rx", "tx"):
        fig[d + "_mbit"] = nbytes * 8 / fast[d][0] / 1e6
        fig[d + "_ipb"] = counted[d][1] / nbytes
    log("board TCP, Linux -> board (discard): %.1f Mbit/s; %.1f instructions per byte on the board" %
        (fig["rx_mbit"], fig["rx_ipb"]))
    log("board TCP, board -> Linux (chargen): %.1f Mbit/s; %.1f instructions per byte on the board" %
        (fig["tx_mbit"], fig["tx_ipb"]))
    return fig


def test_perf(net, elf):
    """Instructions per byte each way under -icount shift=0, held to the
    committed baseline (tests/board/baseline.txt) within its tolerance."""
    counted = bench_run(net, elf, True, 2 * 1024 * 1024)
    base = {}
    for line in open(BASELINE):
        if line.strip() and not line.startswith("#"):
            k, v = line.split()
            base[k] = float(v)
    tol = base.get("tolerance", 0.10)
    for d in ("rx", "tx"):
        ipb = counted[d][1] / (2 * 1024 * 1024)
        want = base[d + "_ipb"]
        if os.environ.get("TERN_BOARD_PERF_UPDATE"):
            log("%s: %.1f instructions per byte (baseline was %.1f)" % (d, ipb, want))
            continue
        if ipb > want * (1 + tol):
            fail("%s: %.1f instructions per byte, baseline %.1f (+%d%% allowed)" % (d, ipb, want, tol * 100))
        log("ok: %s: %.1f instructions per byte on the board, baseline %.1f (+%d%% allowed)" %
            (d, ipb, want, tol * 100))


def measure(elf):
    """make firmware: boot on user-mode networking, fetch the dashboard and
    /api/stats through a host forward, then read the memory summary."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    b = Board(elf, ["-nic", "user,model=lan9118,restrict=on,hostfwd=tcp:127.0.0.1:%d-:80" % port])
    try:
        b.wait_for(r"board: address", 30)
        import urllib.request
        for path in ("/", "/app.js", "/api/stats"):
            urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20).read()
        time.sleep(0.5)
        m = b.memsum()
        print("tern heap: %d bytes, %d free after boot + DHCP + dashboard (minimum ever %d), heap failures %d"
              % (m["heap_total"], m["heap_free"], m["heap_min"], m["failures"]))
        print("main stack high-water (boot, DHCP, dashboard and /api/stats over user-mode networking): "
              "%d of %d bytes" % (m["stack"], m["stack_size"]))
    finally:
        b.stop()


def main():
    if sys.argv[1] == "--inner":
        try:
            inner(sys.argv[2:])
        except AssertionError as e:
            print(e)
            return 1
        return 0
    name, elf = sys.argv[1], os.path.abspath(sys.argv[2])
    if name == "measure":
        measure(elf)
        return 0
    bench_bytes = 0
    if name == "bench":
        bench_bytes = int(os.environ.get("TERN_BOARD_BENCH_BYTES", str(8 * 1024 * 1024)))
    if not os.path.exists(elf):
        log("FAIL: no firmware at %s" % elf)
        return 1
    if shutil.which("qemu-system-arm") is None:
        log("SKIP: qemu-system-arm not installed (scripts/install-deps)")
        return 77
    if name != "fault":
        if os.geteuid() != 0:
            log("SKIP: needs root (network namespaces, TAP devices)")
            return 77
        if not os.path.exists("/dev/net/tun"):
            log("SKIP: no /dev/net/tun")
            return 77
        for tool in ("ip", "dnsmasq", "ping", "curl") + (("hping3",) if name == "flood" else ()):
            if shutil.which(tool) is None:
                log("SKIP: %s not installed (scripts/install-deps)" % tool)
                return 77
    net = Net(name)
    t0 = time.time()
    ok = False
    try:
        if name != "fault":
            net.up()
        if name == "bench":
            bench(net, elf, bench_bytes)
        else:
            {"boot": test_boot, "tcp": test_tcp, "http": test_http, "flood": test_flood, "perf": test_perf,
             "fault": test_fault}[name](net, elf)
        ok = True
    except (AssertionError, BoardFault) as e:
        log("FAIL: %s" % e)
    finally:
        net.down()
        if not ok:
            net.logs()
        shutil.rmtree(net.tmp, ignore_errors=True)
    log("board.%s: %s in %.0f s" % (name, "passed" if ok else "FAILED", time.time() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
