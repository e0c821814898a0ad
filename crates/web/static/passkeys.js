// Passkeys (WebAuthn): adding one on the Account page, "Sign in with a passkey" on the sign-in
// page, and "Use a passkey instead" on the two-step code page.
//
// Each asks the server for a ceremony's options with a form post (the page's CSRF token, same
// origin) answered in JSON, hands them to navigator.credentials.create or .get, and posts the
// browser's answer in an ordinary form, whose answer is a page like every other form's. Binary
// values travel in base64url both ways. Nothing shows where the browser has no WebAuthn.
(function () {
  'use strict';

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials &&
      navigator.credentials.create && navigator.credentials.get);
  }

  function fromB64url(s) {
    let b = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b.length % 4) b += '=';
    const bin = atob(b);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The options without the members the server left empty (WebIDL refuses null for most).
  function pruned(v) {
    if (Array.isArray(v)) return v.map(pruned);
    if (v && typeof v === 'object') {
      const out = {};
      for (const k of Object.keys(v)) {
        if (v[k] !== null && v[k] !== undefined) out[k] = pruned(v[k]);
      }
      return out;
    }
    return v;
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
  }

  function creationOptions(o) {
    const pk = pruned(o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    if (pk.excludeCredentials) pk.excludeCredentials = withIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    const pk = pruned(o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = withIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function extensions(cred) {
    try { return cred.getClientExtensionResults() || {}; } catch (e) { return {}; }
  }

  function madeJson(cred) {
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(cred.response.attestationObject),
        clientDataJSON: toB64url(cred.response.clientDataJSON)
      },
      extensions: extensions(cred)
    });
  }

  function assertedJson(cred) {
    const r = cred.response;
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      },
      extensions: extensions(cred)
    });
  }

  // Posts fields as a form and reads the JSON answer; throws with the server's message.
  async function post(url, fields) {
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        body: new URLSearchParams(fields),
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      });
    } catch (e) {
      throw new Error('The server could not be reached. Try again.');
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!data) throw new Error('This page expired. Reload it and try again.');
    if (!res.ok || data.error) throw new Error(data.error || 'That did not work. Try again.');
    return data;
  }

  // What to tell the person when the browser's part failed.
  function browserMessage(e, making) {
    if (e && e.name === 'InvalidStateError' && making) {
      return 'This device already has a passkey for your account.';
    }
    if (e && (e.name === 'NotAllowedError' || e.name === 'AbortError')) {
      return making ? 'No passkey was made: it was cancelled or took too long.'
        : 'No passkey was used: it was cancelled or took too long.';
    }
    if (e && e.name === 'SecurityError') {
      return 'This browser refused passkeys for this address. Open Clef at its usual address.';
    }
    return (e && e.message) || 'That did not work. Try again.';
  }

  function say(el, message) {
    if (!el) return;
    el.textContent = message || '';
    el.hidden = !message;
  }

  function csrfOf(form) {
    const f = form && form.querySelector('input[name=csrf]');
    return f ? f.value : '';
  }

  // The Account page: Add asks for the options with the name and password, then makes the
  // passkey and posts it.
  function setUpAdd() {
    const form = document.getElementById('add-passkey');
    const finish = document.getElementById('add-passkey-finish');
    if (!form || !finish) return;
    const unsupported = document.getElementById('passkey-unsupported');
    if (!supported()) return;
    form.hidden = false;
    if (unsupported) unsupported.hidden = true;
    const error = document.getElementById('add-passkey-error');
    const button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      say(error, '');
      button.disabled = true;
      let data;
      try {
        data = await post(form.action, new FormData(form));
      } catch (e) {
        say(error, e.message);
        button.disabled = false;
        return;
      }
      const password = form.querySelector('input[name=current_password]');
      if (password) password.value = '';
      let cred;
      try {
        cred = await navigator.credentials.create(creationOptions(data.options));
      } catch (e) {
        say(error, browserMessage(e, true) + ' Type your password again to retry.');
        button.disabled = false;
        return;
      }
      finish.elements.ceremony.value = data.ceremony;
      finish.elements.credential.value = madeJson(cred);
      finish.submit();
    });
  }

  // A button that asks for a ceremony (with `fields`), lets the browser use a passkey and posts
  // the answer with `form`; shown only when `available` says so.
  function setUpUse(boxId, fields) {
    const box = document.getElementById(boxId);
    if (!box || !supported()) return;
    const form = box.querySelector('form');
    const button = box.querySelector('button');
    const error = box.querySelector('[role=alert]');
    const base = { csrf: csrfOf(form) };
    const extra = fields(form);
    const ask = Object.assign({}, base, extra);
    // The sign-in page asks whether the server offers passkeys; the code page, whether the
    // account has one (which needs the challenge, posted).
    const shown = Object.keys(extra).length
      ? post(box.dataset.available, ask)
      : fetch(box.dataset.available, { credentials: 'same-origin' }).then(function (r) { return r.json(); });
    shown.then(function (d) { if (d && d.available) box.hidden = false; }).catch(function () {});
    button.addEventListener('click', async function () {
      say(error, '');
      button.disabled = true;
      try {
        const data = await post(box.dataset.options, ask);
        const cred = await navigator.credentials.get(requestOptions(data.options));
        const name = document.getElementById('device_name');
        if (name && form.elements.device_name && !form.elements.device_name.value) {
          form.elements.device_name.value = name.value;
        }
        form.elements.ceremony.value = data.ceremony;
        form.elements.credential.value = assertedJson(cred);
        form.submit();
      } catch (e) {
        say(error, browserMessage(e, false));
        button.disabled = false;
      }
    });
  }

  function start() {
    setUpAdd();
    setUpUse('passkey-signin', function () { return {}; });
    setUpUse('passkey-second-step', function (form) {
      return { challenge: form.elements.challenge.value };
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
