#!/usr/bin/env bash
# Benchmarks offline export on this machine and prints tables:
#   1. for each output format, the CPU time (user + system) of Clef's conversion of one 4-minute
#      44.1 kHz/16-bit stereo source against `ffmpeg -threads 1` with the same settings (and
#      `flac -5` for FLAC), best of three, with the ratio and each one's peak memory (ALAC also
#      from the 10-minute 24-bit/96 kHz source, kept at 24 bits by both);
#   1b. FLAC -5 file sizes and CPU of Clef's encoder, flac and ffmpeg on that source and on a
#      10-minute 24-bit/96 kHz one;
#   2. peak memory of one conversion of the 10-minute 24-bit/96 kHz source;
#   3. `clef export` of a 50-track album to MP3 320 with one worker and with one per core: wall
#      time and the speed-up;
#   4. time to the first audio byte of a transcoded stream (`format=mp3&bitrate=320`) of a 30 s
#      FLAC, twenty requests in a row against a release server.
# Sources are made with ffmpeg (a tone over pink noise, so encoders have real work) and cached
# under target/bench-data. Needs: cargo, ffmpeg, flac, python3, curl. Usage: bench/export.sh [flac]: with `flac`, only the FLAC rows and sizes (1 and 1b).
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-}
for tool in ffmpeg flac python3 curl; do
  command -v $tool >/dev/null || { echo "bench needs $tool (apt-get install $tool)"; exit 1; }
done
target=${CARGO_TARGET_DIR:-target}
data=target/bench-data/export
mkdir -p "$data"
dir=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
[ "$only" = flac ] || cargo build --release --quiet --bin clef -p clef-server
clef=$target/release/clef
cargo build --release --quiet --example convert -p clef-media
convert=$target/release/examples/convert

music() { # seconds rate sample_fmt out
  ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=220:duration=$1:sample_rate=$2" \
    -f lavfi -i "anoisesrc=color=pink:amplitude=0.2:duration=$1:sample_rate=$2" \
    -filter_complex "[0][1]amix=inputs=2,aformat=channel_layouts=stereo" -ar "$2" -sample_fmt "$3" "$4"
}
[ -f "$data/src.flac" ] || music 240 44100 s16 "$data/src.flac"
[ -f "$data/src.wav" ] || ffmpeg -loglevel error -y -i "$data/src.flac" "$data/src.wav"
[ -f "$data/hires.flac" ] || music 600 96000 s32 "$data/hires.flac"
# FLAC to FLAC at the same depth and rate copies the frames, so FLAC output is measured from WAV.
[ -f "$data/hires.wav" ] || ffmpeg -loglevel error -y -i "$data/hires.flac" -c:a pcm_s24le "$data/hires.wav"

# CPU seconds (user + system), peak resident KB and wall seconds of one command. The peak is
# the kernel's high-water mark (VmHWM), read until the process exits: the rusage maximum of a
# child also counts the forked interpreter's pages from before exec (a 13 MB floor here).
measure() {
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
start = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while True:
    try:
        with open(f"/proc/{child.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    except OSError:
        pass
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid:
        break
    time.sleep(0.005)
wall = time.monotonic() - start
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(f"{sys.argv[1:]} failed")
print(f"{usage.ru_utime + usage.ru_stime:.3f} {peak} {wall:.3f}")
PY
}
mb() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
# Best CPU time of three runs: "cpu peak_kb".
best() {
  for _ in 1 2 3; do rm -f "$dir/out".*; measure "$@"; done | sort -n | head -n 1 | cut -d' ' -f1,2
}

printf '\n%-34s %10s %10s %7s %12s %12s\n' "conversion (4 min, 44.1k/16 stereo)" "Clef CPU" "ref CPU" "ratio" "Clef peak" "ref peak"
row() { # label, clef args (dest ext, format), reference command... ($convert is Clef's binary)
  local label=$1 ext=$2 fmt=$3; shift 3
  read -r c_cpu c_kb < <(best $convert "$src" "$dir/out.$ext" "$fmt")
  read -r r_cpu r_kb < <(best "$@")
  printf '%-34s %9ss %9ss %7s %10s MB %10s MB\n' "$label" "$c_cpu" "$r_cpu" \
    "$(python3 -c "print(f'{$c_cpu/$r_cpu:.2f}')")" "$(mb "$c_kb")" "$(mb "$r_kb")"
}
src="$data/src.flac"
ff="ffmpeg -loglevel error -y -threads 1 -i $src"
if [ "$only" != flac ]; then
  row "MP3 CBR 320 vs ffmpeg libmp3lame" mp3 mp3:320 $ff -c:a libmp3lame -b:a 320k "$dir/out.mp3"
  row "MP3 VBR V2 vs ffmpeg libmp3lame" mp3 mp3:v2 $ff -c:a libmp3lame -q:a 2 "$dir/out.mp3"
  row "WAV vs ffmpeg pcm_s16le" wav wav $ff -c:a pcm_s16le "$dir/out.wav"
  row "AIFF vs ffmpeg pcm_s16be" aiff aiff $ff -c:a pcm_s16be "$dir/out.aiff"
  row "AAC 256 (FDK) vs ffmpeg native aac" m4a aac:256 $ff -c:a aac -b:a 256k "$dir/out.m4a"
  row "ALAC vs ffmpeg alac" m4a alac $ff -c:a alac "$dir/out.m4a"
  src="$data/hires.flac"
  row "ALAC 24/96 (10 min) vs ffmpeg alac" m4a alac ffmpeg -loglevel error -y -threads 1 -i "$src" -c:a alac "$dir/out.m4a"
fi
src="$data/src.wav"
row "FLAC -5 vs ffmpeg flac" flac flac:5 ffmpeg -loglevel error -y -threads 1 -i "$src" -c:a flac -compression_level 5 "$dir/out.flac"
row "FLAC -5 vs flac -5" flac flac:5 flac -s -f -5 -o "$dir/out.flac" "$src"

# Sizes (and CPU, best of three) of FLAC level 5 from WAV, each encoder on both sources.
printf '\n%-28s %22s %22s\n' "FLAC -5 from WAV" "4 min 44.1k/16" "10 min 96k/24"
flac_cell() { # command writing $dir/out.flac...
  local cpu
  cpu=$(best "$@" | cut -d' ' -f1) # the last run's file stays (best removes them before a run)
  printf '%11s B %7ss' "$(stat -c %s "$dir/out.flac")" "$cpu"
}
size_row() { # label, command template with SRC for the source
  local label=$1; shift
  printf '%-28s' "$label"
  for s in "$data/src.wav" "$data/hires.wav"; do
    printf ' %s' "$(flac_cell "${@//SRC/$s}")"
  done
  printf '\n'
}
size_row "Clef, own encoder" "$convert" SRC "$dir/out.flac" flac:5
size_row "flac -5" flac -s -f -5 -o "$dir/out.flac" SRC
size_row "ffmpeg -threads 1 flac" ffmpeg -loglevel error -y -threads 1 -i SRC -c:a flac -compression_level 5 "$dir/out.flac"
[ "$only" = flac ] && exit 0

printf '\n%-40s %12s\n' "one conversion of 10 min 24-bit/96 kHz" "peak memory"
mem() { # label, binary, source, format
  local ext=${4%%:*}; case $ext in aac|alac) ext=m4a ;; esac
  read -r _ kb _ < <(measure "$2" "$3" "$dir/out.$ext" "$4")
  printf '%-40s %9s MB\n' "$1" "$(mb "$kb")"
}
mem "to flac:5 from WAV" "$convert" "$data/hires.wav" flac:5
for fmt in wav mp3:320 aac:256 alac; do
  mem "to $fmt" "$convert" "$data/hires.flac" "$fmt"
done

# 50 tracks of 30 s, one album, exported with 1 worker and with one per core.
lib="$data/album50"
if [ ! -f "$lib/.done" ]; then
  rm -rf "$lib"; mkdir -p "$lib"
  music 30 44100 s16 "$dir/one.flac"
  for i in $(seq -w 1 50); do
    ffmpeg -loglevel error -y -i "$dir/one.flac" -c copy -metadata album="Bench Fifty" \
      -metadata artist="Bench" -metadata title="Track $i" -metadata track="$i" "$lib/$i.flac"
  done
  touch "$lib/.done"
fi
echo "bench password 1234" | CLEF_LOG=warn $clef user add bench --data-dir "$dir/srv" --password-stdin >/dev/null
CLEF_LOG=warn CLEF_MUSIC_DIRS="$lib" $clef scan --data-dir "$dir/srv" >/dev/null
cores=$(nproc)
printf '\n%-44s %10s\n' "clef export, 50 x 30 s album to MP3 320" "wall time"
for w in 1 "$cores"; do
  rm -rf "$dir/out$w"
  read -r _ _ wall < <(measure env CLEF_LOG=warn CLEF_MUSIC_DIRS="$lib" $clef export --data-dir "$dir/srv" \
    --album "Bench Fifty" --format mp3 --bitrate 320 --out "$dir/out$w" --workers "$w")
  echo "$w $wall" >>"$dir/walls.txt"
  printf '%-44s %9ss\n' "$w worker(s)" "$wall"
done
python3 - "$dir/walls.txt" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"{'speed-up with ' + rows[1][0] + ' workers':<44} {float(rows[0][1]) / float(rows[1][1]):9.2f}x")
PY

port=$((20000 + RANDOM % 20000))
CLEF_LOG=warn CLEF_MUSIC_DIRS="$lib" $clef serve --data-dir "$dir/srv" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
token=$(curl -s -X POST http://127.0.0.1:$port/api/v1/sessions -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench password 1234","device":{"name":"curl"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
track=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/search?q=Track%2001" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracks"][0]["id"])')
python3 - "http://127.0.0.1:$port/api/v1/tracks/$track/stream?format=mp3&bitrate=320" "$token" <<'PY'
import sys, time, urllib.request
# Until the first byte of audio, not of the headers (which leave before any encoding).
times = []
for _ in range(20):
    req = urllib.request.Request(sys.argv[1], headers={"Authorization": f"Bearer {sys.argv[2]}"})
    start = time.monotonic()
    with urllib.request.urlopen(req) as r:
        assert r.read(1)
        times.append((time.monotonic() - start) * 1000)
        r.read()
times.sort()
print(f"\n{'transcoded stream (FLAC to MP3 320), first audio byte':<48} median {times[len(times) // 2]:.1f} ms, max {times[-1]:.1f} ms")
PY
