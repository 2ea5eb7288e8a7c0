#!/usr/bin/env bash
# /metrics passes `promtool check metrics` (Debian's prometheus package): every family has
# # HELP and # TYPE lines, counters end in _total, histograms come whole; no `instance` label
# (Prometheus sets its own); sigflow_build_info and the process metrics are there.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing: apt-get install prometheus (.ci/packages)"

PD=$(plugin_dir_with connector_file delivery_console)
ADMIN=$(free_port)
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^clock = event|clock = event\nadmin = 127.0.0.1:$ADMIN|" "$T/ini"
printf '{"entity":"e%d","type":"login","time":"2026-11-01T10:00:00Z"}\n' 1 2 3 >"$T/events.ndjson"
echo 'not json' >>"$T/events.ndjson" # a bad line: the file plugin's own counter
start_daemon "$T/ini"
wait_for 20 has_lines "$T/alerts.ndjson" 3 || fail "no alerts"
# the series published each second: wait until the alerts show, then take one scrape
wait_for 10 bash -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^sigflow_alerts_total 3'" ||
    fail "alerts not in /metrics"
curl -s "http://127.0.0.1:$ADMIN/metrics" >"$T/metrics.txt" || fail "no /metrics"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/promtool.out")"
pass "promtool check metrics accepts /metrics"

grep -q '^# TYPE sigflow_events_in_total counter$' "$T/metrics.txt" || fail "no TYPE for events_in"
grep -q '^# HELP sigflow_events_in_total ' "$T/metrics.txt" || fail "no HELP for events_in"
grep -q '^sigflow_plugin_file_bad_lines_total{connector="in"} 1' "$T/metrics.txt" ||
    fail "plugin metrics do not carry the connector label: $(grep plugin_file "$T/metrics.txt")"
grep -q 'instance="' "$T/metrics.txt" && fail "an instance label: $(grep 'instance="' "$T/metrics.txt")"
grep -Eq '^sigflow_build_info\{version="[0-9.]+",abi="[0-9]+\.[0-9]+"\} 1$' "$T/metrics.txt" ||
    fail "no sigflow_build_info"
for m in process_resident_memory_bytes process_open_fds process_cpu_seconds_total process_start_time_seconds; do
    grep -Eq "^$m [0-9.e+]+$" "$T/metrics.txt" || fail "no $m"
done
rss=$(awk '/^process_resident_memory_bytes/ {print $2}' "$T/metrics.txt")
[ "${rss%.*}" -gt 1000000 ] || fail "resident memory $rss is not plausible"
pass "HELP/TYPE per family, connector/target labels only, build info and process metrics"
stop_daemon
