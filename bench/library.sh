#!/usr/bin/env bash
# Benchmarks the library on this machine and prints a table:
#   - full scan and no-change rescan of generated 2,000- and 10,000-track libraries (`clef scan`);
#   - authenticated GET /api/v1/albums?limit=50 (full metadata), 50 connections (wrk);
#   - 1 MiB Range requests of one file, 16 connections (wrk), as bytes per second;
#   - the server's resident memory after that load.
# The libraries are copies of short ffmpeg-made files in seven formats, each tagged on its own
# (crates/library/examples/make_library.rs), cached under target/bench-data.
# Needs: cargo, curl, wrk and ffmpeg (Debian packages), python3. Usage: bench/library.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
need_tools wrk ffmpeg curl python3
build_with_libraries 2000 10000
scratch

scan_ms() { # data dir, music dir -> the scan's own duration in ms
  CLEF_LOG=warn CLEF_MUSIC_DIRS="$2" $clef scan --data-dir "$1" | sed -n 's/.* in \([0-9]*\) ms.*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in 2000 10000; do
  full=$(for i in 1 2 3; do rm -rf "$dir/scan$n"; scan_ms "$dir/scan$n" "$data/lib$n"; done | median)
  again=$(for i in 1 2 3 4 5; do scan_ms "$dir/scan$n" "$data/lib$n"; done | median)
  echo "$n $full $again" >>"$dir/scans.txt"
done

# A one-minute WAV (about 10 MB) for the Range test, beside the 2,000 tracks.
mkdir -p "$dir/music"
ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=330:duration=60" -ac 2 -ar 44100 "$dir/music/big.wav"
cp -r "$data/lib2000" "$dir/music/lib2000"
CLEF_LOG=warn CLEF_MUSIC_DIRS="$dir/music" $clef scan --data-dir "$dir/srv" >/dev/null
CLEF_LOG=warn CLEF_MUSIC_DIRS="$dir/music" $clef serve --data-dir "$dir/srv" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
pw='bench password 1234'
echo "$pw" | CLEF_LOG=warn $clef user add bench --data-dir "$dir/srv" --password-stdin >/dev/null
token=$(curl -s -X POST http://127.0.0.1:$port/api/v1/sessions -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$pw\",\"device\":{\"name\":\"wrk\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
auth="Authorization: Bearer $token"
# Wait for the start-up scan (it finds nothing new) so the catalog is complete.
for _ in $(seq 1 100); do
  n=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/v1/albums?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$n" -gt 200 ] && break; sleep 0.1
done
big=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/v1/search?q=big" | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["tracks"] if t["format"]=="wav"][0])')

wrk -t2 -c50 -d${secs}s --latency -H "$auth" "http://127.0.0.1:$port/api/v1/albums?limit=50&sort=name" >"$dir/albums.txt"
wrk -t2 -c16 -d${secs}s --latency -H "$auth" -H "Range: bytes=1048576-2097151" "http://127.0.0.1:$port/api/v1/tracks/$big/stream" >"$dir/range.txt"
rss_kb=$(ps -o rss= -p $server | tr -d ' ')

python3 - "$dir" "$secs" "$rss_kb" <<'PY'
import re, sys
d, secs, rss = sys.argv[1], sys.argv[2], int(sys.argv[3])
def wrk(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", t, re.M))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", t)
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[tr.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, lat, float(tr.group(1)) * scale, int(bad.group(1)) if bad else 0
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]
scans = [l.split() for l in open(f"{d}/scans.txt")]
a_rps, a_lat, _, a_bad = wrk(f"{d}/albums.txt")
r_rps, r_lat, r_bytes, r_bad = wrk(f"{d}/range.txt")
print(f"| measurement ({secs} s runs, 2 cores) | Clef | target | others on this kind of machine |")
print("|---|---|---|---|")
ref = {"2000": "Polaris ≈ 0.3 s, Navidrome ≈ 4 s"}
tgt = {"2000": ("< 0.5 s", "< 50 ms"), "10000": ("< 2.5 s", "—")}
for n, full, again in scans:
    print(f"| full scan, {int(n):,} tracks | {int(full)/1000:.2f} s | {tgt[n][0]} | {ref.get(n, '—')} |")
    print(f"| no-change rescan, {int(n):,} tracks | {again} ms | {tgt[n][1]} | — |")
print(f"| GET /api/v1/albums?limit=50, 50 connections: requests/s | {a_rps:,.0f} | ≥ 5,000 | Navidrome ≈ 430, Polaris ≈ 2,700 (smaller list) |")
print(f"| same: p50 / p99 latency | {ms(a_lat['50']):.2f} ms / {ms(a_lat['99']):.2f} ms | p99 < 20 ms | — |")
print(f"| 1 MiB Range requests, 16 connections | {r_bytes/1e9:.2f} GB/s ({r_rps:,.0f} requests/s) | ≥ 1.2 GB/s | gonic ≈ 1.2 GB/s |")
print(f"| resident memory after that load | {rss/1024:.0f} MB | < 60 MB | Navidrome ≈ 70 MB |")
if a_bad or r_bad:
    print(f"\nwarning: {a_bad} album and {r_bad} range responses were not 2xx")
PY
