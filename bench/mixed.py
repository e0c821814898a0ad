"""Mixed load against a running Clef, from 8 clients, while the server's memory is sampled.

Each client loops: sign in (one attempt in ten with a wrong password first), list albums,
search, fetch a 1 MiB Range of a track, read a transcoded MP3 stream for a few seconds' worth,
then sign out. Every 30 s (and at the end of an idle period after the load) it prints the
server's resident memory, read from /proc/<pid>/status.

Usage: python3 bench/mixed.py BASE_URL PID USER PASSWORD [--minutes M] [--idle S] [--clients N]
"""

import argparse
import http.client
import json
import random
import re
import threading
import time
import urllib.parse


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    def __init__(self, base, user, password, n):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.user, self.password, self.n = user, password, n
        self.token = None
        self.counts = {}
        # Each round comes from another loopback address, as many listeners would.
        self.source = "127.0.0.1"

    def call(self, method, path, body=None, headers=None, read=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                       source_address=(self.source, 0))
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read(read) if read else r.read()
        c.close()
        kind = re.sub(r"/[0-9a-f]{16,}", "/{id}", path.split("?")[0])
        key = f"{method} {kind} {r.status}"
        self.counts[key] = self.counts.get(key, 0) + 1
        return r.status, payload

    def round(self, rng, tracks, albums):
        self.source = f"127.0.{self.n}.{rng.randint(2, 254)}"
        if rng.random() < 0.1:
            self.token = None
            self.call("POST", "/api/v1/sessions",
                      {"username": self.user, "password": "not the password"})
        self.token = None
        st, body = self.call("POST", "/api/v1/sessions", {
            "username": self.user, "password": self.password,
            "device": {"name": f"bench {self.n}", "type": "computer"}})
        if st != 201:
            time.sleep(1)
            return
        self.token = json.loads(body)["token"]
        self.call("GET", "/api/v1/albums?limit=50")
        self.call("GET", "/api/v1/search?q=" + rng.choice(["a", "e", "light", "sea", "o"]))
        track = rng.choice(tracks)
        self.call("GET", f"/api/v1/tracks/{track}/stream", headers={"Range": "bytes=0-1048575"})
        # A few seconds of a transcoded stream, then the listener moves on.
        self.call("GET", f"/api/v1/tracks/{track}/stream?format=mp3&bitrate=192", read=256 * 1024)
        if albums:
            self.call("GET", f"/api/v1/albums/{rng.choice(albums)}")
        self.call("DELETE", "/api/v1/sessions/current")
        self.token = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("pid", type=int)
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("--clients", type=int, default=8)
    a = p.parse_args()

    setup = Client(a.base, a.user, a.password, 0)
    st, body = setup.call("POST", "/api/v1/sessions", {
        "username": a.user, "password": a.password, "device": {"name": "bench setup"}})
    setup.token = json.loads(body)["token"]
    _, body = setup.call("GET", "/api/v1/search?q=a")
    tracks = [t["id"] for t in json.loads(body)["tracks"]]
    _, body = setup.call("GET", "/api/v1/albums?limit=50")
    albums = [x["id"] for x in json.loads(body)["albums"]]
    setup.call("DELETE", "/api/v1/sessions/current")

    start_rss = rss_mb(a.pid)
    stop = time.time() + a.minutes * 60
    clients = [Client(a.base, a.user, a.password, i + 1) for i in range(a.clients)]

    def run(c, seed):
        rng = random.Random(seed)
        while time.time() < stop:
            try:
                c.round(rng, tracks, albums)
            except Exception as e:  # a refused or reset connection: keep the load going
                c.counts[f"error {type(e).__name__}"] = c.counts.get(f"error {type(e).__name__}", 0) + 1

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    print(f"| time | phase | RSS (MB) |")
    print("|---|---|---|")
    print(f"| 0 s | start | {start_rss:.0f} |")
    began, peak = time.time(), start_rss
    next_sample = began + 30
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        peak = max(peak, rss_mb(a.pid))
        if time.time() >= next_sample:
            print(f"| {time.time() - began:.0f} s | load | {rss_mb(a.pid):.0f} |", flush=True)
            next_sample += 30
    for t in threads:
        t.join()
    loaded = rss_mb(a.pid)
    idle_end = time.time() + a.idle
    while time.time() < idle_end:
        time.sleep(min(30, max(0.1, idle_end - time.time())))
        print(f"| {time.time() - began:.0f} s | idle | {rss_mb(a.pid):.0f} |", flush=True)
    idle = rss_mb(a.pid)
    totals = {}
    for c in clients:
        for k, v in c.counts.items():
            totals[k] = totals.get(k, 0) + v
    print()
    print(f"peak RSS under load: {peak:.0f} MB; at the end of the load: {loaded:.0f} MB; "
          f"after {a.idle:.0f} s idle: {idle:.0f} MB")
    print("requests:", ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))


if __name__ == "__main__":
    main()
