#!/usr/bin/env bash
# OAuth access tokens against sign-in tokens, and refresh rotation. Starts a release server on a
# fresh data folder, creates a user, signs in through the API, registers a public app, and runs
# one authorization code flow with PKCE per client (web sign-in, consent page, approve, token
# endpoint). Then, with CLIENTS concurrent clients (default 8) for SECONDS each (default 10):
#   a. GET /api/v1/me with the sign-in token: requests/s, p50, p99;
#   b. the same with each client's OAuth access token (should match a);
#   c. refreshes per second at the token endpoint, each client along its own rotating chain.
# Prints a markdown table. Needs: cargo, curl, python3 with requests.
# Usage: bench/oauth.sh [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-8}
secs=${2:-10}
python3 -c 'import requests' 2>/dev/null || { echo "bench needs python3 with requests"; exit 1; }
cargo build --release --quiet -p clef-server
clef=target/release/clef
source bench/common.sh
scratch

CLEF_LOG=warn $clef serve --data-dir "$dir" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
pw='bench password 1234'
echo "$pw" | CLEF_LOG=warn $clef user add bench --data-dir "$dir" --password-stdin >/dev/null
# One device per sign-in and per grant: room for all of them.
CLEF_LOG=warn $clef user limits bench --devices 1000 --data-dir "$dir" >/dev/null
# The first start scans the sample library in the background: let it finish before measuring.
for _ in $(seq 1 300); do
  n=$(curl -s -X POST http://127.0.0.1:$port/api/v1/sessions -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$pw\",\"device\":{\"name\":\"probe\"}}" |
    python3 -c 'import json,sys,urllib.request as u; t=json.load(sys.stdin)["token"]; r=u.Request("http://127.0.0.1:'$port'/api/v1/search?q=a",headers={"Authorization":"Bearer "+t}); print(len(json.load(u.urlopen(r))["tracks"]))')
  [ "$n" -gt 0 ] && break
  sleep 1
done
sleep 1
echo "OAuth: $clients clients, $secs s per measurement ($(nproc) cores)"
python3 bench/oauth.py "http://127.0.0.1:$port" bench "$pw" --clients "$clients" --seconds "$secs"
