#!/usr/bin/env bash
# The Subsonic API against the REST API on the 2,000-track library, and a client's full sync.
# Starts a release server on a fresh data folder over the generated library (the same one as
# bench/library.sh, cached under target/bench-data), creates a user, signs in through the API
# (a sign-in token) and creates an app password and an API key for Subsonic apps. Then, with 50
# connections (wrk) for SECONDS each (default 10):
#   a. GET /rest/getAlbumList2?type=alphabeticalByName&size=50&f=json with token login
#      (u, t = md5(app password + salt), s, v, c). A salt is accepted once, as a real client
#      sends a new one with every request, so every request carries its own: the URLs are made
#      beforehand, and each wrk thread walks its own share of them;
#   b. GET /api/v1/albums?sort=name&limit=50 with the sign-in token (the same 50 albums);
#   c. for comparison, (a) with the API key (no md5, no salt written);
# requests/s, p50, p99, and a / b. Then a Symfonium-style full sync, one request at a time:
# search3?query=&artistCount=0&albumCount=0&songCount=N&songOffset=… until a page comes back
# empty, at N = 500 and N = 100: pages, songs and total time.
# Needs: cargo, curl, wrk and ffmpeg (Debian packages), python3.
# Usage: bench/subsonic.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source bench/common.sh
need_tools wrk ffmpeg curl python3
build_with_libraries 2000
scratch

base=http://127.0.0.1:$port
CLEF_LOG=warn CLEF_MUSIC_DIRS="$data/lib2000" $clef scan --data-dir "$dir/srv" >/dev/null
CLEF_LOG=warn CLEF_MUSIC_DIRS="$data/lib2000" $clef serve --data-dir "$dir/srv" --listen 127.0.0.1:$port >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf $base/healthz >/dev/null && break; sleep 0.1; done
pw='bench password 1234'
echo "$pw" | CLEF_LOG=warn $clef user add bench --data-dir "$dir/srv" --password-stdin >/dev/null
CLEF_LOG=warn $clef user limits bench --devices 1000 --data-dir "$dir/srv" >/dev/null
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
token=$(curl -s -X POST $base/api/v1/sessions -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$pw\",\"device\":{\"name\":\"wrk\"}}" | json token)
auth="Authorization: Bearer $token"
app_password=$(curl -s -X POST $base/api/v1/app-passwords -H "$auth" -H 'content-type: application/json' \
  -d '{"name":"bench phone","type":"phone","kind":"app_password"}' | json password)
api_key=$(curl -s -X POST $base/api/v1/app-passwords -H "$auth" -H 'content-type: application/json' \
  -d '{"name":"bench desktop","type":"computer","kind":"api_key"}' | json api_key)
# Wait for the start-up scan (it finds nothing new) so the catalog is complete.
for _ in $(seq 1 100); do
  n=$(curl -s -H "$auth" "$base/api/v1/albums?limit=1" | json total)
  [ "$n" -gt 200 ] && break; sleep 0.1
done

# Request targets, one a line: a fresh salt for each token login, more than wrk can send.
python3 - "$dir" "$app_password" "$api_key" "$secs" <<'PY'
import hashlib, secrets, sys
d, password, key, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
q = "/rest/getAlbumList2?type=alphabeticalByName&size=50&f=json&v=1.16.1&c=bench"
def salted(n, path):
    with open(path, "w") as f:
        for i in range(n):
            salt = f"{secrets.token_hex(6)}{i:x}"
            t = hashlib.md5((password + salt).encode()).hexdigest()
            f.write(f"{q}&u=bench&t={t}&s={salt}\n")
salted(20_000, f"{d}/warm.txt")
salted(int(secs * 25_000), f"{d}/token.txt")
open(f"{d}/key.txt", "w").write(f"{q}&apiKey={key}\n")
open(f"{d}/rest.txt", "w").write("/api/v1/albums?sort=name&limit=50\n")
PY
# Each wrk thread sends its own share of the lines, in turn, and counts answers that are not
# Subsonic's "ok" (a salt used twice would be refused) or not 200.
cat >"$dir/paths.lua" <<'LUA'
local threads, n = {}, 0
function setup(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end
function init(args)
  local file, count, i = args[1], tonumber(args[2]), 0
  paths, next_path, wrapped, bad = {}, 0, 0, 0
  for line in io.lines(file) do
    if i % count == id - 1 then table.insert(paths, line) end
    i = i + 1
  end
  if #paths == 0 then paths = { io.lines(file)() } end
  subsonic = args[3] == "subsonic"
end
function request()
  next_path = next_path + 1
  if next_path > #paths then next_path, wrapped = 1, wrapped + 1 end
  return wrk.format(nil, paths[next_path])
end
function response(status, headers, body)
  if status ~= 200 or (subsonic and not body:find('"status":"ok"', 1, true)) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, w = 0, 0
  for _, t in ipairs(threads) do b, w = b + t:get("bad"), w + t:get("wrapped") end
  io.write(string.format("bad answers: %d\nrestarted lists: %d\n", b, w))
end
LUA
load() { # name, paths file, kind, seconds, extra wrk arguments
  wrk -t2 -c50 -d${4}s --latency -s "$dir/paths.lua" "${@:5}" $base -- "$dir/$2" 2 "$3" >"$dir/$1.out"
}
load warm warm.txt subsonic 2
load token token.txt subsonic "$secs"
load rest rest.txt rest "$secs" -H "$auth"
load key key.txt subsonic "$secs"

# The full sync, one request at a time (token login, a fresh salt each), as Symfonium does it.
python3 - "$base" "$app_password" >"$dir/sync.txt" <<'PY'
import hashlib, http.client, json, secrets, sys, time, urllib.parse
base, password = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
for count in (500, 100):
    offset, pages, songs, ids = 0, 0, 0, set()
    t0 = time.perf_counter()
    while True:
        salt = secrets.token_hex(8)
        t = hashlib.md5((password + salt).encode()).hexdigest()
        conn.request("GET", f"/rest/search3?query=&artistCount=0&albumCount=0&songCount={count}"
                     f"&songOffset={offset}&f=json&u=bench&t={t}&s={salt}&v=1.16.1&c=bench")
        r = conn.getresponse()
        body = json.loads(r.read())["subsonic-response"]
        assert r.status == 200 and body["status"] == "ok", body
        page = body["searchResult3"].get("song", [])
        pages += 1
        if not page:
            break
        songs += len(page)
        ids.update(s["id"] for s in page)
        offset += len(page)
    took = time.perf_counter() - t0
    print(f"{count} {pages} {songs} {len(ids)} {took * 1000:.0f}")
PY

python3 - "$dir" "$secs" "$(nproc)" <<'PY'
import re, sys
d, secs, cores = sys.argv[1], sys.argv[2], sys.argv[3]
def wrk(name):
    t = open(f"{d}/{name}.out").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", t, re.M))
    bad = int(re.search(r"bad answers: (\d+)", t).group(1))
    wrapped = int(re.search(r"restarted lists: (\d+)", t).group(1))
    errors = re.search(r"Socket errors: (.*)", t)
    return rps, ms(lat["50"]), ms(lat["99"]), bad, wrapped, errors.group(1) if errors else ""
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]
token, rest, key = wrk("token"), wrk("rest"), wrk("key")
print(f"| measurement (50 connections, {secs} s each, {cores} cores) | requests/s | p50 | p99 | failed |")
print("|---|---|---|---|---|")
rows = [
    ("GET /rest/getAlbumList2?type=alphabeticalByName&size=50&f=json, token login, a new salt each", token),
    ("GET /api/v1/albums?sort=name&limit=50, sign-in token", rest),
    ("(for comparison) getAlbumList2 as above with an API key", key),
]
for name, (rps, p50, p99, bad, _, _) in rows:
    print(f"| {name} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {bad} |")
print(f"| Subsonic (token login) / REST | {token[0] / rest[0]:.2f} | {token[1] / rest[1]:.2f} "
      f"| {token[2] / rest[2]:.2f} | — |")
print("| target for getAlbumList2 with token login | ≥ 4,300 | — | < 20 ms | 0 |")
print()
print("| full sync: search3, songCount, one request at a time | pages | songs (distinct) | total time |")
print("|---|---|---|---|")
for line in open(f"{d}/sync.txt"):
    count, pages, songs, distinct, took = line.split()
    print(f"| songCount={count} | {pages} | {int(songs):,} ({int(distinct):,}) | {int(took):,} ms |")
for name, r in (("token", token), ("rest", rest), ("key", key)):
    if r[4] and name == "token":
        print(f"\nwarning: the salted URLs ran out ({r[4]} restarts): reused salts were refused")
    if r[5]:
        print(f"\nwarning: {name}: socket errors: {r[5]}")
PY
