#!/usr/bin/env bash
# The server's memory under a realistic mixed load: 8 clients signing in (some with a wrong
# password), listing albums, searching, fetching Range requests and transcoded streams, and
# signing out, for MINUTES (default 10), then IDLE seconds (default 60) of nothing. Prints the
# resident memory every 30 s, its peak, and where it ends after the idle time.
# Needs: cargo, curl, python3. Usage: bench/mixed.sh [minutes] [idle-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
idle=${2:-60}
cargo build --release --quiet --bin clef
clef=target/release/clef
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT

# The sample library (written on first start) is what the clients play.
CLEF_LOG=warn $clef serve --data-dir "$dir" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
pw='bench password 1234'
echo "$pw" | CLEF_LOG=warn $clef user add bench --data-dir "$dir" --password-stdin >/dev/null
CLEF_LOG=warn $clef user limits bench --devices 1000 --streams 1000 --data-dir "$dir" >/dev/null
# The first scan runs in the background: wait until the library lists tracks.
for _ in $(seq 1 300); do
  n=$(curl -s -X POST http://127.0.0.1:$port/api/v1/sessions -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$pw\",\"device\":{\"name\":\"probe\"}}" |
    python3 -c 'import json,sys,urllib.request as u; t=json.load(sys.stdin)["token"]; r=u.Request("http://127.0.0.1:'$port'/api/v1/search?q=a",headers={"Authorization":"Bearer "+t}); print(len(json.load(u.urlopen(r))["tracks"]))')
  [ "$n" -gt 0 ] && break
  sleep 1
done
echo "Mixed load: 8 clients for $minutes min, then $idle s idle ($(nproc) cores)"
python3 bench/mixed.py "http://127.0.0.1:$port" "$server" bench "$pw" --minutes "$minutes" --idle "$idle"
