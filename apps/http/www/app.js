/* tern dashboard: polls /api/stats once a second and draws it with plain
 * DOM and SVG. The schema is in docs/dashboard.md. */
"use strict";

var POLL_MS = 1000;
var HISTORY = 300; /* samples kept for the chart: five minutes */
var samples = [];  /* {t, free, min_free, total}; not "history": window.history is read-only */
var openLayers = {}; /* counters sections the user opened */

/* What each ledger category is, in the terms of the seed discussion. */
var CATEGORY_INFO = {
  STACK_INIT: "at init: held for the stack's whole life",
  NETWORK_BUFFER: "per packet: frame storage (HEAP scheme); STATIC storage is the static column",
  SOCKET: "per socket: its structure, from creation to close (and the TIME-WAIT table)",
  TCP_STREAM_RX: "per stream buffer: receive ring, at the first byte received, freed at close",
  TCP_STREAM_TX: "per stream buffer: send ring, at the first write, freed once our FIN is acknowledged or at close",
  TCP_RANGES: "at init: TCP range descriptor pool (FreeRTOS+TCP: xTCPSegments at the first connection)",
  ARP_CACHE: "at init: ARP cache entries",
  IP_REASSEMBLY: "per datagram: fragments being reassembled",
  DNS_CACHE: "DNS client cache",
  DHCP: "DHCP client state while it runs",
  HTTP: "this dashboard's server: connections and buffers",
  APPLICATION: "the application's own tern_mem_alloc calls"
};
var PALETTE = ["#1c7ed6", "#f08c00", "#7048e8", "#0ca678", "#e64980", "#15aabf", "#82c91e",
               "#fab005", "#4263eb", "#ae3ec9", "#d9480f", "#495057"];

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function svg(tag, attrs) {
  var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
  return e;
}

function num(n) {
  if (typeof n !== "number") return "n/a";
  return n.toLocaleString("en-US");
}

function bytes(n) {
  if (typeof n !== "number") return "n/a";
  if (n >= 10240) return (n / 1024).toFixed(1) + " KiB";
  return n + " B";
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function fig(parent, value, label, title) {
  var d = el("div", { "class": "fig", title: title || "" });
  d.appendChild(el("span", { "class": "v" }, value));
  d.appendChild(el("span", { "class": "k" }, label));
  parent.appendChild(d);
}

function row(tbody, cells, cls) {
  var tr = el("tr", cls ? { "class": cls } : null);
  cells.forEach(function (c) {
    var td = el("td", c && c.cls ? { "class": c.cls, title: c.title || "" } : null,
                c && typeof c === "object" ? c.text : c);
    tr.appendChild(td);
  });
  tbody.appendChild(tr);
}

/* ---- heap -------------------------------------------------------------------- */

function drawHeap(s) {
  var h = s.heap;
  var f = $("heap-figures");
  clear(f);
  fig(f, bytes(h.free), "free", "bytes in free blocks now");
  fig(f, bytes(h.min_free), "minimum ever free", "the lowest free has been since start: your real margin");
  fig(f, bytes(h.used), "used", "bytes in live blocks, headers included");
  fig(f, bytes(h.total), "total", "heap size, less alignment and end markers");
  fig(f, bytes(h.largest_alloc), "largest allocation possible", "the biggest tern_mem_alloc that would succeed now");
  fig(f, num(h.free_blocks), "free blocks", "more free blocks for the same free bytes = fragmentation");
  fig(f, num(h.used_blocks), "live allocations");
  fig(f, num(h.failures), "failed allocations", "allocations the heap could not satisfy");

  samples.push({ t: s.now_ms, free: h.free, min: h.min_free, total: h.total });
  if (samples.length > HISTORY) samples.shift();
  var c = $("heap-chart");
  clear(c);
  var W = 800, H = 220, L = 56, R = 8, T = 8, B = 22;
  var total = h.total || 1;
  var g = svg("g", { "class": "grid" });
  for (var i = 0; i <= 4; i++) {
    var y = T + (H - T - B) * i / 4;
    g.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y }));
    var label = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
    label.textContent = bytes(Math.round(total * (4 - i) / 4));
    g.appendChild(label);
  }
  c.appendChild(g);
  if (samples.length < 2) return;
  var t0 = samples[0].t, t1 = samples[samples.length - 1].t;
  var span = Math.max(1, (t1 - t0) >>> 0);
  function pts(key) {
    return samples.map(function (p) {
      var x = L + (W - L - R) * (((p.t - t0) >>> 0) / span);
      var yy = T + (H - T - B) * (1 - p[key] / total);
      return x.toFixed(1) + "," + yy.toFixed(1);
    }).join(" ");
  }
  c.appendChild(svg("polyline", { "class": "free", points: pts("free") }));
  c.appendChild(svg("polyline", { "class": "minfree", points: pts("min") }));
  var tl = svg("text", { x: W - R, y: H - 6, "text-anchor": "end" });
  tl.textContent = "last " + Math.round(span / 1000) + " s";
  c.appendChild(tl);
  $("chart-span").textContent = "(" + samples.length + " samples)";
}

/* ---- ledger ------------------------------------------------------------------- */

function drawLedger(s) {
  var lg = s.ledger, total = s.heap.total || 1;
  var bar = $("ledger-bar"), legend = $("ledger-bar-legend");
  clear(bar);
  clear(legend);
  function seg(width, color, title, name) {
    if (width <= 0) return;
    var d = el("div", { title: title });
    d.style.width = (100 * width / total) + "%";
    d.style.background = color;
    bar.appendChild(d);
    var l = el("span", { title: title });
    var sw = el("i");
    sw.style.background = color;
    l.appendChild(sw);
    l.appendChild(document.createTextNode(name));
    legend.appendChild(l);
  }
  lg.categories.forEach(function (c, i) {
    seg(c.bytes, PALETTE[i % PALETTE.length], c.name + ": " + c.bytes + " bytes in " + c.blocks + " blocks", c.name);
  });
  seg(lg.overhead, "#868e96", "heap overhead: " + lg.overhead + " bytes (block headers and padding)", "overhead");
  seg(s.heap.free, "#e9ecef", "free: " + s.heap.free + " bytes", "free");

  var tbody = $("ledger-table").tBodies[0];
  clear(tbody);
  var sum = 0, plan = (s.plan && s.plan.categories) || {};
  lg.categories.forEach(function (c) {
    sum += c.bytes;
    var idle = c.bytes === 0 && c.peak === 0 && c.static === 0 && c.allocs === 0;
    var p = plan[c.name];
    row(tbody, [c.name, num(c.bytes), num(c.peak), s.plan ? num(p || 0) : "", num(c.blocks), c.static ? num(c.static) : "",
                num(c.allocs), num(c.frees), num(c.failures),
                { text: CATEGORY_INFO[c.name] || "", cls: "text" }], idle ? "zero" : "");
  });
  row(tbody, ["(heap overhead)", num(lg.overhead), "", "", "", "", "", "", "",
              { text: "8-byte header and padding of each live block", cls: "text" }]);
  var ok = sum + lg.overhead === s.heap.used;
  row(tbody, ["total", num(sum + lg.overhead), "", s.plan ? num(s.plan.heap_need) : "", "", "", "", "", "",
              { text: ok ? "= heap used (" + num(s.heap.used) + ")" : "differs from heap used " + num(s.heap.used) +
                " (the figures were read a moment apart)", cls: "text" }]);
  var owners = (lg.owners || []).map(function (o) {
    return (o.owner === 0 ? "stack" : o.owner === "other" ? "other" : "socket " + o.owner) + " " + bytes(o.bytes);
  });
  $("ledger-note").textContent = "By owner: " + (owners.length ? owners.join(", ") : "nothing held");
}

/* ---- network buffers, TCP ----------------------------------------------------- */

function meter(parent, used, max, mark, title) {
  var m = el("div", { "class": "meter", title: title });
  var u = el("div", { "class": "used" });
  u.style.width = (max ? 100 * used / max : 0) + "%";
  m.appendChild(u);
  if (typeof mark === "number" && max) {
    var k = el("div", { "class": "mark" });
    k.style.left = (100 * mark / max) + "%";
    m.appendChild(k);
  }
  parent.appendChild(m);
}

function drawNetbufs(s) {
  var n = s.netbufs, d = $("netbufs");
  clear(d);
  var f = el("div", { "class": "figures" });
  fig(f, n.free + " / " + n.count, "free now", "descriptors free of TERN_NETBUF_COUNT");
  fig(f, num(n.min_free), "minimum ever free", "the fewest free there have been: 0 means frames were lost");
  fig(f, num(n.exhausted), "exhausted", "gets that found no buffer (a frame lost or a send refused)");
  fig(f, n.scheme, "scheme", n.scheme === "STATIC" ? "storage reserved at build time (BufferAllocation_1)"
                                                   : "storage from the heap at the exact size (BufferAllocation_2)");
  d.appendChild(f);
  meter(d, n.in_use, n.count, n.count - n.min_free, "in use now (bar) and the most ever in use (mark)");
  d.appendChild(el("p", { "class": "note" },
    "Static storage " + bytes(n.static_bytes) + " (outside the heap), descriptors " + bytes(n.descriptor_bytes) +
    ". " + num(n.gets) + " gets, " + num(n.releases) + " releases." + (s.interfaces || []).map(function (i) {
      return " " + i.name + ": zero-copy RX " + (i.zero_copy_rx ? "on" : "off") + ", TX " + (i.zero_copy_tx ? "on" : "off") + ".";
    }).join("")));
}

function drawTcp(s) {
  var d = $("tcp"), t = s.tcp || {};
  clear(d);
  var seg = t.ranges || {};
  var f = el("div", { "class": "figures" });
  var count = typeof seg.count === "number" ? seg.count : s.config.tcp_range_count;
  fig(f, typeof seg.in_use === "number" ? num(seg.in_use) : "n/a", "in use", "out-of-order ranges held now");
  fig(f, typeof seg.peak === "number" ? num(seg.peak) : "n/a", "peak", "the most ever in use (n/a until TCP reports it)");
  fig(f, num(count), "pool size", "TERN_TCP_RANGE_COUNT");
  if (typeof t.timewait === "number") fig(f, num(t.timewait), "TIME-WAIT", "closed connections remembered (2 MSL)");
  d.appendChild(f);
  if (typeof seg.in_use === "number")
    meter(d, seg.in_use, count, seg.peak, "in use (bar) and peak (mark)");
  else
    d.appendChild(el("p", { "class": "na" }, "n/a until the pool exists (first listen or connect)."));
  var conns = t.connections || [];
  if (!conns.length) return;
  var tb = el("table", { "class": "grid" });
  var head = el("thead"), tr = el("tr");
  ["state", "local", "remote", "rx queue", "tx queue", "heap bytes", "srtt"].forEach(function (h) {
    tr.appendChild(el("th", null, h));
  });
  head.appendChild(tr);
  tb.appendChild(head);
  var body = el("tbody");
  conns.forEach(function (c) {
    row(body, [c.state, c.local + ":" + c.local_port, c.remote + ":" + c.remote_port, num(c.recv_queue),
               num(c.send_queue), num(c.bytes_held), c.srtt_ms + " ms"]);
  });
  tb.appendChild(body);
  var wrap = el("div", { "class": "scroll" });
  wrap.appendChild(tb);
  d.appendChild(wrap);
  if (t.connections_total > conns.length)
    d.appendChild(el("p", { "class": "note" }, (t.connections_total - conns.length) + " more not listed"));
}

function drawHttp(s) {
  var d = $("http");
  clear(d);
  var h = s.http;
  if (!h) {
    d.appendChild(el("p", { "class": "na" }, "n/a"));
    return;
  }
  var f = el("div", { "class": "figures" });
  fig(f, h.open + " / " + h.max_conns, "connections", "open now of TERN_HTTP_MAX_CONNS; one more gets 503");
  fig(f, bytes(h.conn_bytes), "per connection", "heap (HTTP category) each open connection holds");
  fig(f, num(h.requests), "requests");
  fig(f, num(h.responses_304), "304", "answered from the browser's cache (ETag matched)");
  fig(f, num(h.responses_4xx + h.responses_5xx), "errors", "4xx and 5xx responses");
  fig(f, num(h.refused_busy), "refused (busy)");
  fig(f, num(h.timeouts), "timeouts");
  d.appendChild(f);
}

/* ---- tables -------------------------------------------------------------------- */

function drawInterfaces(s) {
  var tbody = $("ifaces").tBodies[0];
  clear(tbody);
  (s.interfaces || []).forEach(function (i) {
    var bits = i.netmask.split(".").reduce(function (a, o) {
      var v = +o, c = 0;
      while (v) { c += v & 1; v >>= 1; }
      return a + c;
    }, 0);
    row(tbody, [i.name, i.addr + "/" + bits, i.gateway, i.mac, i.link_up ? "up" : "down"]);
  });
}

function drawArp(s) {
  var tbody = $("arp").tBodies[0];
  clear(tbody);
  if (!s.arp.length) row(tbody, [{ text: "empty", cls: "text" }, "", "", "", ""]);
  s.arp.forEach(function (a) {
    row(tbody, [a.ip, a.state === "pending" ? "(resolving)" : a.mac, a.state, (a.age_ms / 1000).toFixed(1) + " s",
                num(a.queued)]);
  });
}

/* Sockets: whatever fields the socket layer reports, id and bytes first. */
function drawSockets(s) {
  var t = $("sockets"), rows = s.sockets || [];
  var thead = t.tHead, tbody = t.tBodies[0];
  clear(thead);
  clear(tbody);
  var cols = ["id", "bytes"];
  rows.forEach(function (r) {
    Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0) cols.push(k); });
  });
  var tr = el("tr");
  cols.forEach(function (c) { tr.appendChild(el("th", null, c)); });
  thead.appendChild(tr);
  if (!rows.length) {
    row(tbody, [{ text: "no open sockets", cls: "text" }].concat(cols.slice(1).map(function () { return ""; })));
    return;
  }
  rows.forEach(function (r) {
    row(tbody, cols.map(function (c) {
      var v = r[c];
      return v === undefined ? "" : typeof v === "number" ? num(v) : String(v);
    }));
  });
}

function drawCounters(s) {
  var d = $("counters");
  clear(d);
  Object.keys(s.counters).forEach(function (layer) {
    var values = s.counters[layer], names = Object.keys(values);
    var nonzero = names.filter(function (n) { return values[n] !== 0; });
    var det = el("details");
    if (openLayers[layer]) det.open = true;
    det.addEventListener("toggle", function () { openLayers[layer] = det.open; });
    var drops = nonzero.filter(function (n) { return n.indexOf("drop") === 0; })
      .reduce(function (a, n) { return a + values[n]; }, 0);
    det.appendChild(el("summary", null, layer + " (" + nonzero.length + " of " + names.length + " nonzero" +
      (drops ? ", " + num(drops) + " dropped" : "") + ")"));
    var tb = el("table", { "class": "grid" });
    var body = el("tbody");
    names.forEach(function (n) { row(body, [layer + "." + n, num(values[n])], values[n] ? "" : "zero"); });
    tb.appendChild(body);
    det.appendChild(tb);
    d.appendChild(det);
  });
}

/* ---- polling ------------------------------------------------------------------- */

function render(s) {
  drawHeap(s);
  drawLedger(s);
  drawNetbufs(s);
  drawTcp(s);
  drawHttp(s);
  drawInterfaces(s);
  drawArp(s);
  drawSockets(s);
  drawCounters(s);
}

function setStatus(text, cls) {
  var st = $("status");
  st.textContent = text;
  st.className = "status " + cls;
}

function poll() {
  var started = Date.now();
  fetch("/api/stats", { cache: "no-store" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(function (s) {
      render(s);
      setStatus("live, " + (Date.now() - started) + " ms", "live");
      $("footer").textContent = "schema " + s.schema + ", stack time " + (s.now_ms / 1000).toFixed(1) +
        " s; polls /api/stats once a second";
    })
    .catch(function (e) { setStatus("offline: " + e.message, "offline"); })
    .then(function () { setTimeout(poll, POLL_MS); });
}

if (typeof module !== "undefined" && module.exports) {
  /* node: exported so that render() can be exercised without a browser. */
  module.exports = { render: render, CATEGORY_INFO: CATEGORY_INFO };
} else {
  poll();
}
