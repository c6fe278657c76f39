#!/bin/bash
# `make run` as a newcomer meets it: scripts/run-demo starts tern-demo on a
# libslirp network (no root), the dashboard is fetched with curl through the
# forwarded host port, console commands are typed on stdin, and `quit` ends
# it with exit 0 and an empty ledger. Nothing leaves the machine: slirp runs
# restricted and curl talks to 127.0.0.1 only.
set -u
DEMO=${TERN_DEMO:?TERN_DEMO must name the tern-demo binary}
SRC=${TERN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
PORT=$((20000 + $$ % 20000))
TMP=$(mktemp -d /tmp/tern-run.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "---- demo output"; tail -n 60 "$TMP/out.log"; exit 1; }

mkfifo "$TMP/stdin"
"$SRC/scripts/run-demo" "$DEMO" --http-port "$PORT" <"$TMP/stdin" >"$TMP/out.log" 2>&1 &
PID=$!
exec 3>"$TMP/stdin"

for _ in $(seq 1 100); do
    grep -q "dashboard: http://127.0.0.1:$PORT/" "$TMP/out.log" && break
    sleep 0.1
done
grep -q "dashboard: http://127.0.0.1:$PORT/" "$TMP/out.log" || fail "no dashboard address printed"
echo "ok: the banner prints http://127.0.0.1:$PORT/"

# tern gets its address from slirp's DHCP server first: retry until served.
ok=0
for _ in $(seq 1 60); do
    if curl -fsS --max-time 2 "http://127.0.0.1:$PORT/" -o "$TMP/index.html" 2>"$TMP/curl.err"; then
        ok=1
        break
    fi
    sleep 0.5
done
[ "$ok" = 1 ] || fail "the dashboard did not load through the forward: $(cat "$TMP/curl.err")"
grep -qi '<html' "$TMP/index.html" || fail "/ is not an HTML page"
echo "ok: GET / returned the dashboard ($(wc -c <"$TMP/index.html") bytes)"

curl -fsS --max-time 5 "http://127.0.0.1:$PORT/api/stats" -o "$TMP/stats.json" || fail "GET /api/stats failed"
/usr/bin/python3 - "$TMP/stats.json" <<'PY' || fail "/api/stats is not the documented JSON"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["heap"]
assert h["total"] == h["used"] + h["free"], h
# The ledger's promise, in one snapshot: categories + overhead = heap used.
lg = d["ledger"]
cats = {c["name"]: c for c in lg["categories"]}
held = sum(c["bytes"] for c in cats.values())
assert held + lg["overhead"] == h["used"], (held, lg["overhead"], h["used"])
assert held > 0 and len(cats) >= 10, cats
print("ok: /api/stats parses; heap used %d of %d = %d in %d ledger categories + %d overhead"
      % (h["used"], h["total"], held, len(cats), lg["overhead"]))
PY

printf 'mem\nbufs\nnetstat\n' >&3
# Until all three have answered (up to 10 s).
for _ in $(seq 1 100); do
    grep -q '= heap used' "$TMP/out.log" && grep -q 'network buffers (' "$TMP/out.log" &&
        grep -qE '^LISTEN +(0\.0\.0\.0|\[::\]):80 ' "$TMP/out.log" && break
    sleep 0.1
done
grep -q '= heap used' "$TMP/out.log" || fail "console 'mem' printed no ledger"
grep -q 'network buffers (' "$TMP/out.log" || fail "console 'bufs' printed nothing"
grep -qE '^LISTEN +(0\.0\.0\.0|\[::\]):80 ' "$TMP/out.log" || fail "console 'netstat' does not show the HTTP listener"
echo "ok: console mem, bufs, netstat answer"

printf 'quit\n' >&3
rc=0
for _ in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
wait "$PID" || rc=$?
PID=""
[ "$rc" = 0 ] || fail "tern-demo exited $rc after quit"
grep -q '^ledger check after deinit: empty' "$TMP/out.log" || fail "ledger not empty at exit"
echo "ok: quit: exit 0, ledger empty"
echo "PASS"
