"""A real OAuth client library (authlib) drives Clef from its metadata document alone.

Run by the integration test `oauth::authlib_drives_clef_from_its_metadata` against a running
server; signs in and approves through Clef's own web forms as a browser without script would.
Environment: CLEF_URL, CLEF_USER, CLEF_PASSWORD, PUBLIC_CLIENT_ID, CONF_CLIENT_ID,
CONF_CLIENT_SECRET. Prints "ok" when every check passed; any failure raises.
"""

import html
import os
import re
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

BASE = os.environ["CLEF_URL"]
USER = os.environ["CLEF_USER"]
PASSWORD = os.environ["CLEF_PASSWORD"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


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


def answer_consent(auth_url, decision):
    """Opens the authorization URL in a fresh browser: signs in, then answers the consent page.
    Returns where Clef sent the browser back to the app."""
    browser = requests.Session()
    r = browser.get(auth_url, allow_redirects=False)
    check(r.status_code == 303, f"not sent to sign in first: {r.status_code}")
    check(r.headers["Location"].startswith("/signin?next="), r.headers["Location"])
    r = browser.get(urljoin(BASE, r.headers["Location"]))
    form = hidden_fields(r.text)
    check(form.get("next", "").startswith("/oauth/authorize?"), "sign-in form lost the way back")
    form.update(username=USER, password=PASSWORD, device_name="authlib's browser")
    r = browser.post(BASE + "/signin", data=form, allow_redirects=False)
    check(r.status_code == 303, f"sign-in failed: {r.status_code}")
    back = r.headers["Location"]
    check(back.startswith("/oauth/authorize?"), f"not back to consent: {back}")
    r = browser.get(urljoin(BASE, back))
    check(r.status_code == 200, f"consent page: {r.status_code}")
    check("frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), "framable")
    check("Registered by" in r.text and "data-scope=" in r.text, "app or scopes not named")
    form = hidden_fields(r.text)
    form["decision"] = decision
    r = browser.post(BASE + "/oauth/authorize", data=form, allow_redirects=False)
    check(r.status_code == 303, f"consent answer: {r.status_code} {r.text[:200]}")
    return r.headers["Location"]


meta = requests.get(BASE + "/.well-known/oauth-authorization-server").json()
check(meta["issuer"] == BASE, meta["issuer"])
check(meta["code_challenge_methods_supported"] == ["S256"], "PKCE methods")
check("implicit" not in meta["grant_types_supported"], "implicit offered")
check("password" not in meta["grant_types_supported"], "password grant offered")

# --- A public (native) app: code flow with PKCE, loopback redirect on a port of its choosing.
public = OAuth2Session(
    os.environ["PUBLIC_CLIENT_ID"],
    redirect_uri="http://127.0.0.1:53682/callback",
    scope="library:read stream",
    code_challenge_method="S256",
    token_endpoint_auth_method="none",
)
verifier = generate_token(64)
url, state = public.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
back = answer_consent(url, "approve")
query = parse_qs(urlparse(back).query)
check(query["state"] == [state], "state not returned")
check(query["iss"] == [meta["issuer"]], "iss not returned")
token = public.fetch_token(meta["token_endpoint"], authorization_response=back, code_verifier=verifier)
check(token["token_type"] == "Bearer" and token["expires_in"] == 3600, token)
check(token["scope"] == "library:read stream", token["scope"])
check(public.get(BASE + "/api/v1/albums").status_code == 200, "albums with the app's token")
r = public.get(BASE + "/api/v1/playlists")
check(r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text)
check('scope="playlists:read"' in r.headers["WWW-Authenticate"], r.headers["WWW-Authenticate"])
check(public.get(BASE + "/api/v1/devices").status_code == 403, "devices reachable by an app")

# Refresh rotates; the old refresh token replayed ends the whole grant.
old_refresh = token["refresh_token"]
fresh = public.refresh_token(meta["token_endpoint"])
check(fresh["refresh_token"] != old_refresh, "refresh token not rotated")
check(public.get(BASE + "/api/v1/albums").status_code == 200, "new access token")
r = requests.post(
    meta["token_endpoint"],
    data={"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": public.client_id},
)
check(r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text)
r = public.get(BASE + "/api/v1/albums")
check(r.status_code == 401 and r.json()["reason"] == "refresh_token_reused", r.text)

# Deny sends the app an error, and no code.
url, state = public.create_authorization_url(meta["authorization_endpoint"], code_verifier=generate_token(64))
denied = parse_qs(urlparse(answer_consent(url, "deny")).query)
check(denied["error"] == ["access_denied"] and "code" not in denied, denied)

# --- A confidential app: secret by HTTP Basic, introspection and revocation (RFC 7662, 7009).
conf = OAuth2Session(
    os.environ["CONF_CLIENT_ID"],
    os.environ["CONF_CLIENT_SECRET"],
    redirect_uri="https://app.example/callback",
    scope="profile playlists:read",
    code_challenge_method="S256",
)
verifier = generate_token(64)
url, _ = conf.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
back = answer_consent(url, "approve")
token = conf.fetch_token(meta["token_endpoint"], authorization_response=back, code_verifier=verifier)
me = conf.get(BASE + "/api/v1/me").json()
check(me["username"] == USER, me)
info = conf.introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
check(info["active"] and info["username"] == USER and info["scope"] == "profile playlists:read", info)
check(conf.revoke_token(meta["revocation_endpoint"], token=token["access_token"]).status_code == 200, "revoke")
info = conf.introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
check(info == {"active": False}, info)
r = conf.get(BASE + "/api/v1/me")
check(r.status_code == 401 and r.json()["reason"] == "token_revoked", r.text)
# The refresh token was not revoked with its access token.
token = conf.refresh_token(meta["token_endpoint"])
check(conf.get(BASE + "/api/v1/me").status_code == 200, "refreshed access")
# Revoking the refresh token takes the access tokens issued with it.
r = conf.revoke_token(meta["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token")
check(r.status_code == 200, "revoke refresh")
check(conf.get(BASE + "/api/v1/me").status_code == 401, "access token outlived its refresh token")
# An unknown token is answered 200 and changes nothing.
check(conf.revoke_token(meta["revocation_endpoint"], token="not-a-token").status_code == 200, "unknown")
# A wrong secret is refused.
bad = requests.post(
    meta["introspection_endpoint"],
    data={"token": "x"},
    auth=(os.environ["CONF_CLIENT_ID"], "wrong secret"),
)
check(bad.status_code == 401 and bad.json()["error"] == "invalid_client", bad.text)
# --- A TV: the device grant (RFC 8628), approved from a second, signed-in session.
check(meta["device_authorization_endpoint"].endswith("/oauth/device_authorization"), "no device endpoint")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
check(DEVICE_GRANT in meta["grant_types_supported"], "device grant not offered")
tv = OAuth2Session(os.environ["PUBLIC_CLIENT_ID"], token_endpoint_auth_method="none")
start = requests.post(
    meta["device_authorization_endpoint"],
    data={"client_id": tv.client_id, "scope": "library:read stream", "device_name": "Living room TV", "device_type": "tv"},
).json()
check(re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", start["user_code"]) is not None, start)
check(start["verification_uri_complete"].startswith(start["verification_uri"]), start)


def poll():
    return requests.post(
        meta["token_endpoint"],
        data={"grant_type": DEVICE_GRANT, "device_code": start["device_code"], "client_id": tv.client_id},
    )


r = poll()
check(r.status_code == 400 and r.json()["error"] == "authorization_pending", r.text)
r = poll()
check(r.json()["error"] == "slow_down", r.text)
phone = requests.Session()
r = phone.get(start["verification_uri_complete"], allow_redirects=False)
check(r.headers["Location"].startswith("/signin?next="), r.headers.get("Location"))
page = phone.get(urljoin(BASE, r.headers["Location"])).text
form = hidden_fields(page)
form.update(username=USER, password=PASSWORD, device_name="anna's phone")
r = phone.post(BASE + "/signin", data=form, allow_redirects=False)
check(r.headers["Location"].startswith("/device?code="), r.headers["Location"])
page = phone.get(urljoin(BASE, r.headers["Location"])).text
check("Living room TV" in page and start["user_code"] in page, "approval page does not name the TV or code")
form = hidden_fields(page)
form["decision"] = "approve"
r = phone.post(BASE + "/device", data=form)
check(r.status_code == 200 and 'id="device-done"' in r.text, r.text[:300])
token = tv.fetch_token(
    meta["token_endpoint"],
    grant_type=DEVICE_GRANT,
    device_code=start["device_code"],
)
check(token["scope"] == "library:read stream", token)
check(tv.get(BASE + "/api/v1/albums").status_code == 200, "TV's token")
r = poll()
check(r.json()["error"] == "invalid_grant", "a device code gave tokens twice")
print("ok")
