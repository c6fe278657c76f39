# The benchmark's plots, from the .dat files bench/harness/report writes.
#   gnuplot -e "dir='bench/results'; conns=16; tern_pending=0; emb=1; lraw=1; off=1" bench/harness/plots.gp
# dir: where the .dat files are and the PNGs go; conns: the connection count
# latency.dat was taken at; tern_pending: 1 while tern's TCP is not plugged in.
if (!exists("dir")) dir = "bench/results"
if (!exists("conns")) conns = 16
if (!exists("tern_pending")) tern_pending = 0
# emb: 1 when tern at its embedded defaults ("ternemb") was measured;
# lraw: 1 when lwIP on its raw API ("lwipraw", the last columns) was measured
if (!exists("emb")) emb = 0
if (!exists("lraw")) lraw = 0
# off: 1 when tern with the TAP's offloads ("ternoff", the last columns) was measured
if (!exists("off")) off = 0
tern = tern_pending ? "tern (pending)" : "tern"

set terminal pngcairo size 900,560 enhanced font "DejaVu Sans,11"
set grid ytics lc rgb "#dddddd"
set key top left
set border 3
set xtics nomirror
set ytics nomirror
c_tern = "#1b9e77"; c_lwip = "#d95f02"; c_kernel = "#7570b3"; c_emb = "#66a61e"; c_lraw = "#f4a261"; c_off = "#e7298a"

# ---- bulk throughput: grouped bars, median with min-max error bars
set output dir."/throughput.png"
set title "Bulk TCP throughput (median, min-max)"
set ylabel "Mbit/s"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
# A pending stack has no numbers: its series are left out (gnuplot refuses
# a series without a valid point), and the title says so.
if (tern_pending) {
    set label 1 "tern: pending" at graph 0.5, graph 0.95 center
    plot dir."/throughput.dat" using 5:6:7:xtic(1) title "lwIP 2.1.3" lc rgb c_lwip, \
         "" using 8:9:10 title "Linux kernel (veth)" lc rgb c_kernel
} else {
  # Built as a string: the optional series (emb, lraw) come and go.
  cmd = "plot dir.'/throughput.dat' using 2:3:4:xtic(1) title '".tern.(emb ? " (64 KB rings)" : "")."' lc rgb c_tern"
  if (off) { cmd = cmd.", '' using 17:18:19 title 'tern with TAP offloads' lc rgb c_off" }
  if (emb) { cmd = cmd.", '' using 11:12:13 title 'tern (embedded defaults)' lc rgb c_emb" }
  cmd = cmd.", '' using 5:6:7 title 'lwIP 2.1.3 (best of its variants)' lc rgb c_lwip"
  if (lraw) { cmd = cmd.", '' using 14:15:16 title 'lwIP 2.1.3 raw API' lc rgb c_lraw" }
  cmd = cmd.", '' using 8:9:10 title 'Linux kernel (veth)' lc rgb c_kernel"
  eval cmd
}

# ---- HTTP requests/s against connections
unset style
set style data linespoints
set output dir."/http_rps.png"
set title "HTTP requests per second (wrk; solid: keep-alive, dashed: new connection per request)"
set xlabel "concurrent connections"
set ylabel "requests/s"
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64)
set xrange [0.8:conns * 1.25]
set yrange [0:*]
set key top left
if (tern_pending) {
plot dir."/http_rps.dat" using 1:5:6:7 with yerrorlines lw 2 pt 7 lc rgb c_lwip title "lwIP keep-alive", \
     "" using 1:8:9:10 with yerrorlines lw 2 pt 7 lc rgb c_kernel title "kernel keep-alive", \
     "" using 1:14:15:16 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_lwip title "lwIP close", \
     "" using 1:17:18:19 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_kernel title "kernel close"
} else {
cmd = "plot dir.'/http_rps.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb c_tern title '".tern." keep-alive'"
if (off) { cmd = cmd.", '' using 1:32:33:34 with yerrorlines lw 2 pt 7 lc rgb c_off title 'tern offloads keep-alive'" }
if (emb) { cmd = cmd.", '' using 1:20:21:22 with yerrorlines lw 2 pt 7 lc rgb c_emb title 'tern (defaults) keep-alive'" }
cmd = cmd.", '' using 1:5:6:7 with yerrorlines lw 2 pt 7 lc rgb c_lwip title 'lwIP best keep-alive'"
if (lraw) { cmd = cmd.", '' using 1:26:27:28 with yerrorlines lw 2 pt 7 lc rgb c_lraw title 'lwIP raw keep-alive'" }
cmd = cmd.", '' using 1:8:9:10 with yerrorlines lw 2 pt 7 lc rgb c_kernel title 'kernel keep-alive'"
cmd = cmd.", '' using 1:11:12:13 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_tern title '".tern." close'"
if (off) { cmd = cmd.", '' using 1:35:36:37 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_off title 'tern offloads close'" }
if (emb) { cmd = cmd.", '' using 1:23:24:25 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_emb title 'tern (defaults) close'" }
cmd = cmd.", '' using 1:14:15:16 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_lwip title 'lwIP best close'"
if (lraw) { cmd = cmd.", '' using 1:29:30:31 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_lraw title 'lwIP raw close'" }
cmd = cmd.", '' using 1:17:18:19 with yerrorlines lw 2 dt 2 pt 6 lc rgb c_kernel title 'kernel close'"
eval cmd
}
unset label 1
unset logscale x
set xrange [*:*]
unset xlabel
set xtics auto

# ---- latency percentiles at the largest connection count
set output dir."/latency.png"
set multiplot layout 1,2 title sprintf("HTTP latency percentiles at %d connections (wrk, median of repetitions)", conns)
set logscale y
set yrange [*:*]
set xlabel "percentile"
set ylabel "latency, microseconds"
set key top left
set xrange [-0.3:3.3]
do for [mode = 0:1] {
    set title (mode == 0 ? "keep-alive" : "new connection per request")
    k = 2 + 3 * mode
    if (tern_pending) {
        plot dir."/latency.dat" using 0:(column(k + 1)):xtic(1) lw 2 pt 7 lc rgb c_lwip title "lwIP", \
             "" using 0:(column(k + 2)) lw 2 pt 7 lc rgb c_kernel title "kernel"
    } else {
        cmd = "plot dir.'/latency.dat' using 0:(column(k)):xtic(1) lw 2 pt 7 lc rgb c_tern title '".tern."'"
        if (emb) { cmd = cmd.", '' using 0:(column(8 + mode)) lw 2 pt 7 lc rgb c_emb title 'tern (defaults)'" }
        if (off) { cmd = cmd.", '' using 0:(column(12 + mode)) lw 2 pt 7 lc rgb c_off title 'tern offloads'" }
        cmd = cmd.", '' using 0:(column(k + 1)) lw 2 pt 7 lc rgb c_lwip title 'lwIP sockets'"
        if (lraw) { cmd = cmd.", '' using 0:(column(10 + mode)) lw 2 pt 7 lc rgb c_lraw title 'lwIP raw'" }
        cmd = cmd.", '' using 0:(column(k + 2)) lw 2 pt 7 lc rgb c_kernel title 'kernel'"
        eval cmd
    }
}
unset multiplot
