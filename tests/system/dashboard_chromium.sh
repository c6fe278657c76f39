#!/bin/bash
# The dashboard in a real headless Chromium: tern-demo on libslirp (no root,
# nothing leaves the machine), the page loaded through the forwarded port,
# the chart given time to hold several points, the numbers on the page
# compared with /api/stats, no console errors (the favicon is served: no
# 404), and, at a laptop size (1366x768) with a dozen TCP connections open,
# no card overflowing its box (wide tables scroll inside their card); a
# screenshot of the whole page at that width is saved as a test artifact
# (TERN_BUILD/dashboard.png); SIGTERM then ends the demo with exit 0 and an
# empty ledger.
set -u
DEMO=${TERN_DEMO:?TERN_DEMO must name the tern-demo binary}
OUT=${TERN_BUILD:-/tmp}
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
    { echo "SKIP: chromium and chromium-driver not installed (scripts/install-deps)"; exit 77; }
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "SKIP: python3-selenium not installed"; exit 77; }
PORT=$((20000 + ($$ * 7) % 20000))
TMP=$(mktemp -d /tmp/tern-dash.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 30 "$TMP/demo.log"; exit 1; }

"$DEMO" --http-port "$PORT" </dev/null >"$TMP/demo.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    curl -fs --max-time 1 "http://127.0.0.1:$PORT/api/stats" -o /dev/null 2>/dev/null && break
    sleep 0.2
done
curl -fs --max-time 2 "http://127.0.0.1:$PORT/api/stats" -o /dev/null || fail "tern's dashboard is not reachable"

/usr/bin/python3 - "$PORT" "$OUT/dashboard.png" "$TMP" <<'PY' || fail "dashboard check"
import json, socket, sys, time, urllib.request
from selenium import webdriver
from selenium.webdriver.common.by import By

port, shot, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
url = "http://127.0.0.1:%s/" % port
opts = webdriver.ChromeOptions()
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1366,768",
          "--user-data-dir=%s/profile" % tmp):
    opts.add_argument(a)
d = webdriver.Chrome(options=opts)
try:
    d.get(url)
    # Several points on the chart: the page polls once a second.
    deadline = time.time() + 30
    n = 0
    while time.time() < deadline:
        span = d.execute_script("return document.getElementById('chart-span').textContent;")
        if span.startswith("(") and span.split()[0][1:].isdigit():
            n = int(span.split()[0][1:])
            if n >= 4:
                break
        time.sleep(0.5)
    assert n >= 4, "chart holds %d points after 30 s" % n
    lines = d.execute_script("return document.querySelectorAll('#heap-chart polyline').length;")
    assert lines == 2, "free and minimum-ever-free lines: %d" % lines
    # Script errors and failed loads (a 404 for the favicon too) fail the test.
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
    assert d.execute_script("return document.querySelector('link[rel=icon]').href;").endswith("/favicon.svg")
    icon = urllib.request.urlopen(url + "favicon.svg", timeout=5)
    assert icon.status == 200 and icon.headers["Content-Type"] == "image/svg+xml", icon.headers
    # The page's ledger table against /api/stats, for categories that do not
    # move while nobody else talks to tern.
    stats = json.load(urllib.request.urlopen(url + "api/stats", timeout=5))
    cats = {c["name"]: c for c in stats["ledger"]["categories"]}
    time.sleep(1.5)  # one more poll after our own request
    # Read the table in one script call: the page rebuilds it every poll.
    rows = d.execute_script(
        "var r = {}; document.querySelectorAll('#ledger-table tbody tr').forEach(function (tr) {"
        " var td = tr.querySelectorAll('td'); if (td.length >= 2) r[td[0].textContent] ="
        " td[1].textContent.replace(/,/g, ''); }); return r;")
    checked = 0
    for name in ("ARP_CACHE", "TCP_RANGES", "DHCP", "STACK_INIT"):
        want = str(cats[name]["bytes"])
        assert rows.get(name) == want, "%s: page %r, /api/stats %s" % (name, rows.get(name), want)
        checked += 1
    nb = stats["netbufs"] if "netbufs" in stats else stats["network_buffers"]
    page_nb = d.execute_script("return document.getElementById('netbufs').textContent;")
    assert ("/ %d" % nb["count"]) in page_nb.replace("\u00a0", " "), page_nb
    # Up to a dozen connections from here (through slirp), one after the
    # other, each sending a request and waiting for its answer: those the
    # server takes are served (200, kept alive: a served connection is never
    # evicted), and once every slot holds a served connection the next get
    # 503 and a FIN. Kept open on this side, the refused ones stay in
    # tern's table (FIN-WAIT-2). The served ones are closed again, so the
    # page's own polls find a free slot (a 503 to a poll in that moment is
    # the limit working, and is drained from the log).
    d.get_log("browser")
    served, refused, others = [], [], []
    req = b"GET /api/stats HTTP/1.1\r\nHost: tern\r\n\r\n"
    for _ in range(12):
        if len(refused) >= 3:
            break
        c = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        c.sendall(req)
        head = b""
        try:
            while len(head) < 12:
                b = c.recv(4096)
                if not b:
                    break
                head += b
        except (ConnectionResetError, socket.timeout):
            pass
        if head.startswith(b"HTTP/1.1 503 "):
            refused.append(c)
        elif head.startswith(b"HTTP/1.1 200 "):
            served.append(c)
        else:
            # Reset or closed unanswered: a connection the limit's eviction
            # or a full accept queue turned away. Counted, not held.
            others.append(head[:40])
            c.close()
    for c in served:
        c.close()
    held = refused[:3]
    assert len(held) == 3, "only %d of 12 connections were refused (%d served, %d reset or closed unanswered)" % (len(held), len(served), len(others))
    time.sleep(1.5)
    d.get_log("browser")
    time.sleep(2.5)  # two polls with the table full
    states = d.execute_script("return Array.prototype.map.call(document.querySelectorAll('#tcp table tbody tr'),"
                              " function (r) { return r.cells[0].textContent; });")
    assert len(states) >= 4, "the TCP table lists %s" % states
    # Nothing sticks out of its card at 1366x768.
    over = d.execute_script(
        "var o = []; document.querySelectorAll('.card').forEach(function (c) {"
        " if (c.scrollWidth > c.clientWidth + 1) o.push((c.querySelector('h2') || c).textContent +"
        " ' ' + c.scrollWidth + '>' + c.clientWidth); }); return o;")
    assert not over, "cards overflowing at 1366x768: %s" % over
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
    # The whole page at the same width for the screenshot.
    h = d.execute_script("return document.documentElement.scrollHeight;")
    d.set_window_size(1366, min(max(h + 140, 768), 4000))
    time.sleep(1.5)
    d.save_screenshot(shot)
    for c in held:
        c.close()
    print("ok: limit: %d served, %d refused with 503, %d reset or closed unanswered" % (len(served), len(refused), len(others)))
    print("ok: chart holds %d points; %d ledger rows equal /api/stats; TCP rows %s, no card overflows at 1366x768;"
          " no console errors; screenshot %s" % (n, checked, states, shot))
finally:
    d.quit()
PY
# The demo must stop cleanly: exit 0 on SIGTERM and an empty ledger.
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=""
[ "$rc" = 0 ] || fail "tern-demo exited $rc after SIGTERM"
grep -q '^ledger check after deinit: empty' "$TMP/demo.log" || fail "ledger not empty after deinit"
echo "ok: SIGTERM: exit 0, ledger empty"
echo "PASS"
