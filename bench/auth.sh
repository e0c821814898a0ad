#!/usr/bin/env bash
# Benchmarks the account core on this machine and prints a table:
#   - authenticated GET /api/v1/devices throughput and latency (wrk, 50 connections, 10 s);
#   - sign-in latency with 50 sign-ins in flight at all times;
#   - an authenticated GET's p99 while those sign-ins hash passwords (argon2 must not stall it).
# Needs: cargo, curl, wrk (Debian package), python3. Usage: bench/auth.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
cargo build --release --quiet --bin clef
clef=target/release/clef
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT

CLEF_LOG=warn $clef serve --data-dir "$dir" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
pw='bench password 1234'
echo "$pw" | CLEF_LOG=warn $clef user add bench --data-dir "$dir" --password-stdin >/dev/null
CLEF_LOG=warn $clef user limits bench --devices 1000 --data-dir "$dir" >/dev/null
token=$(curl -s -X POST http://127.0.0.1:$port/api/v1/sessions -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$pw\",\"device\":{\"name\":\"wrk\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# 1. Throughput of an authenticated GET on its own.
wrk -t2 -c50 -d${secs}s --latency -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/devices >"$dir/alone.txt"

# 2. 50 connections signing in continuously (each sign-in hashes a password), while 10 other
#    connections make authenticated GETs: the GET's latency shows whether hashing stalls the server.
cat >"$dir/signin.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"bench","password":"$pw","device":{"name":"wrk sign-in"}}'
LUA
wrk -t1 -c10 -d${secs}s --latency -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/me >"$dir/during.txt" &
wrkpid=$!
wrk -t1 -c50 -d${secs}s --timeout 30s --latency -s "$dir/signin.lua" http://127.0.0.1:$port/api/v1/sessions >"$dir/signins.txt"
wait $wrkpid

python3 - "$dir" "$secs" <<'PY'
import re, sys
d, secs = sys.argv[1], sys.argv[2]
def wrk(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", t, re.M))
    return rps, lat
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]
alone_rps, alone = wrk(f"{d}/alone.txt")
during_rps, during = wrk(f"{d}/during.txt")
signin_rps, signin = wrk(f"{d}/signins.txt")
s_text = open(f"{d}/signins.txt").read()
count = int(re.search(r"(\d+) requests in", s_text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", s_text)
print(f"| measurement ({secs} s runs, 2 cores) | value |")
print("|---|---|")
print(f"| GET /api/v1/devices, 50 connections: requests/s | {alone_rps:,.0f} |")
print(f"| GET /api/v1/devices: p50 / p99 latency | {ms(alone['50']):.2f} ms / {ms(alone['99']):.2f} ms |")
print(f"| sign-ins, 50 concurrent: completed (refused) | {count} ({non2xx.group(1) if non2xx else 0}) = {signin_rps:.1f}/s |")
print(f"| sign-in latency, 50 concurrent: p50 / p99 | {ms(signin['50']):.0f} ms / {ms(signin['99']):.0f} ms |")
print(f"| GET /api/v1/me (10 connections) during those sign-ins: requests/s | {during_rps:,.0f} |")
print(f"| GET /api/v1/me during those sign-ins: p50 / p99 latency | {ms(during['50']):.2f} ms / {ms(during['99']):.2f} ms |")
PY
