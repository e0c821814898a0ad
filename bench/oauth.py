"""OAuth access tokens against sign-in tokens, and refresh rotation, on a running Clef.

Setup: signs in through the API (a sign-in token), registers a public app with that token,
signs in once on the web form, then runs one authorization code flow with PKCE per client
(consent page, approve, code for tokens), so each client holds a grant of its own.

After one untimed second of load, three phases, each with N client processes (one keep-alive
connection each) for D seconds:
  a. GET /api/v1/me with the sign-in token;
  b. GET /api/v1/me with the client's OAuth access token;
  c. POST /oauth/token refreshes, each client along its own chain: every refresh returns a new
     refresh token, which the client's next refresh must use (the old one is spent).
Prints a markdown table: requests/s, p50 and p99 latency, errors, and OAuth / sign-in for a/b.

Usage: python3 bench/oauth.py BASE_URL USER PASSWORD [--clients N] [--seconds D]
"""

import argparse
import base64
import hashlib
import html
import http.client
import json
import multiprocessing
import re
import secrets
import time
import urllib.parse

import requests

REDIRECT = "http://127.0.0.1/callback"
SCOPE = "profile library:read"


def check(cond, what):
    if not cond:
        raise SystemExit(f"setup failed: {what}")


def hidden_fields(page):
    """The hidden inputs of a page's form, as a browser would post them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return fields


def s256(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def code_flow(base, browser, client_id):
    """One authorization code flow with PKCE in a signed-in browser; returns the token response."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(8)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": SCOPE, "state": state, "code_challenge": s256(verifier),
        "code_challenge_method": "S256"})
    r = browser.get(f"{base}/oauth/authorize?{query}", allow_redirects=False)
    check(r.status_code == 200, f"consent page: {r.status_code} {r.text[:200]}")
    form = hidden_fields(r.text)
    check("csrf" in form and form.get("code_challenge") == s256(verifier), "consent form fields")
    form["decision"] = "approve"
    r = browser.post(f"{base}/oauth/authorize", data=form, allow_redirects=False)
    check(r.status_code == 303, f"approve: {r.status_code} {r.text[:200]}")
    back = urllib.parse.urlparse(r.headers["Location"])
    got = urllib.parse.parse_qs(back.query)
    check(back.geturl().startswith(REDIRECT + "?") and got.get("state") == [state],
          f"redirect: {r.headers['Location']}")
    r = requests.post(f"{base}/oauth/token", data={
        "grant_type": "authorization_code", "code": got["code"][0], "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier})
    check(r.status_code == 200, f"token: {r.status_code} {r.text[:200]}")
    tokens = r.json()
    check(tokens.get("access_token") and tokens.get("refresh_token"), f"token response: {tokens}")
    return tokens


def setup(base, user, password, clients):
    r = requests.post(f"{base}/api/v1/sessions", json={
        "username": user, "password": password, "device": {"name": "oauth bench"}})
    check(r.status_code == 201, f"sign-in: {r.status_code} {r.text[:200]}")
    signin_token = r.json()["token"]
    r = requests.post(f"{base}/api/v1/apps", headers={"Authorization": f"Bearer {signin_token}"},
                      json={"name": "bench", "redirect_uris": [REDIRECT], "confidential": False})
    check(r.status_code == 201, f"app registration: {r.status_code} {r.text[:200]}")
    client_id = r.json()["client_id"]

    browser = requests.Session()
    r = browser.get(f"{base}/signin")
    form = hidden_fields(r.text)
    check("csrf" in form, "sign-in form has no csrf field")
    form.update(username=user, password=password, device_name="oauth bench browser", next="/")
    r = browser.post(f"{base}/signin", data=form, allow_redirects=False)
    check(r.status_code == 303, f"web sign-in: {r.status_code} {r.text[:200]}")

    grants = [code_flow(base, browser, client_id) for _ in range(clients)]
    return signin_token, client_id, grants


# --- Load: one process per client, each on one keep-alive connection.

def connect(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def until(start_at):
    """Waits for the phase's common start (wall clock); returns it on the perf_counter scale."""
    time.sleep(max(0.0, start_at - time.time()))
    return time.perf_counter() - max(0.0, time.time() - start_at)


def get_me(job):
    base, token, start_at, seconds = job
    conn = connect(base)
    headers = {"Authorization": f"Bearer {token}"}
    lat, errors = [], 0
    deadline = until(start_at) + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        try:
            conn.request("GET", "/api/v1/me", headers=headers)
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = connect(base)
            ok = False
        if ok:
            lat.append(time.perf_counter() - t0)
        else:
            errors += 1
    conn.close()
    return lat, errors


def refresh_chain(job):
    base, (client_id, refresh), start_at, seconds = job
    conn = connect(base)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    lat, errors = [], 0
    deadline = until(start_at) + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        body = urllib.parse.urlencode({
            "grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id})
        try:
            conn.request("POST", "/oauth/token", body=body, headers=headers)
            r = conn.getresponse()
            payload = r.read()
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = connect(base)
            ok = False
        if not ok:
            # A failed refresh may or may not have spent the token: the chain cannot go on.
            errors += 1
            break
        new = json.loads(payload)["refresh_token"]
        if new == refresh:
            errors += 1
            break
        refresh = new
        lat.append(time.perf_counter() - t0)
    conn.close()
    return lat, errors


def run(pool, fn, jobs, seconds):
    results = pool.map(fn, jobs, chunksize=1)
    lat = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)

    def pct(p):
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000

    return {"n": len(lat), "rps": len(lat) / seconds, "p50": pct(50), "p99": pct(99),
            "errors": errors}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()

    signin_token, client_id, grants = setup(a.base, a.user, a.password, a.clients)
    pool = multiprocessing.get_context("fork").Pool(a.clients)
    # One untimed second of load first, so that the first phase pays no warm-up.
    warm = time.time() + 0.5
    pool.map(get_me, [(a.base, signin_token, warm, 1.0)] * a.clients, chunksize=1)
    phases = []
    for name, fn, creds in [
        ("signin", get_me, [signin_token] * a.clients),
        ("oauth", get_me, [g["access_token"] for g in grants]),
        ("refresh", refresh_chain, [(client_id, g["refresh_token"]) for g in grants]),
    ]:
        start_at = time.time() + 0.5
        jobs = [(a.base, c, start_at, a.seconds) for c in creds]
        phases.append(run(pool, fn, jobs, a.seconds))
        time.sleep(1)
    pool.close()
    pool.join()
    signin, oauth, refresh = phases

    n, s = a.clients, f"{a.seconds:g}"
    print(f"| measurement ({n} clients, {s} s each) | requests/s | p50 | p99 | errors "
          f"| OAuth / sign-in |")
    print("|---|---|---|---|---|---|")
    print(f"| GET /api/v1/me, sign-in API token | {signin['rps']:,.0f} | {signin['p50']:.2f} ms "
          f"| {signin['p99']:.2f} ms | {signin['errors']} | — |")
    ratio = (f"{oauth['rps'] / signin['rps']:.2f} (p50 {oauth['p50'] / signin['p50']:.2f}, "
             f"p99 {oauth['p99'] / signin['p99']:.2f})") if signin["n"] else "—"
    print(f"| GET /api/v1/me, OAuth access token | {oauth['rps']:,.0f} | {oauth['p50']:.2f} ms "
          f"| {oauth['p99']:.2f} ms | {oauth['errors']} | {ratio} |")
    print(f"| POST /oauth/token, refresh with rotation (a chain per client) | "
          f"{refresh['rps']:,.0f} | {refresh['p50']:.2f} ms | {refresh['p99']:.2f} ms "
          f"| {refresh['errors']} | — |")


if __name__ == "__main__":
    main()
