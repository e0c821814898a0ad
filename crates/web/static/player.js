/* Clef's player bar: a queue played through one <audio> element from the stream API.
 *
 * Plain script, no build step; the page's CSP allows only scripts from our own origin, so this file
 * attaches every handler itself (no inline handlers). It:
 *  - reads tracks from rows `tr[data-track-id]` (title, artist, album, cover in data- attributes);
 *  - before playing a track, asks for its first byte (GET .../stream with Range: bytes=0-0) to take
 *    this device's stream slot, so a 409 stream_limit_reached can be shown with a choice of device
 *    to stop ("Stop playback there and play here" repeats the request with ?takeover=<device>);
 *  - reports `playing` to PUT /api/v1/playback when a track starts and every 20 s while it plays,
 *    `paused` on pause and `stopped` at the end of the queue;
 *  - while playing, checks every few seconds that this device still holds its slot (GET
 *    /api/v1/playback). A browser buffers a short track whole, so a stream cut by the server is not
 *    always noticed by the <audio> element; when the slot is gone, when the element errors or stalls,
 *    or when a report is refused, one report tells why, and the reason (the API's `message`) is
 *    shown in #player-status and playback stops;
 *  - keeps the queue (its order, shuffle and repeat) across page loads in sessionStorage, and the
 *    volume across pages and visits in localStorage;
 *  - shuffles the queue around the current track (turning it off restores the order), repeats the
 *    queue or one track;
 *  - answers keys outside form fields and buttons: space plays or pauses, the arrows seek by 5 s,
 *    shift with an arrow goes to the previous or next track;
 *  - tells the Media Session API what plays (lock screens, headsets and media keys).
 */
(function () {
  'use strict';

  document.documentElement.classList.add('js');

  var HEARTBEAT_MS = 20000;
  var CHECK_MS = 3000;
  var STORE_KEY = 'clef.player';
  var VOLUME_KEY = 'clef.volume';
  var SEEK_STEP = 5;
  var REPEAT_MODES = ['off', 'all', 'one'];

  var root = document.getElementById('player');
  if (!root) {
    return;
  }
  var deviceId = root.getAttribute('data-device-id') || '';
  var audio = document.getElementById('player-audio');
  var ui = {
    cover: document.getElementById('player-cover'),
    title: document.getElementById('player-title'),
    artist: document.getElementById('player-artist'),
    prev: document.getElementById('player-prev'),
    toggle: document.getElementById('player-toggle'),
    next: document.getElementById('player-next'),
    seek: document.getElementById('player-seek'),
    elapsed: document.getElementById('player-elapsed'),
    duration: document.getElementById('player-duration'),
    shuffle: document.getElementById('player-shuffle'),
    repeat: document.getElementById('player-repeat'),
    mute: document.getElementById('player-mute'),
    volume: document.getElementById('player-volume'),
    queueToggle: document.getElementById('player-queue-toggle'),
    queuePanel: document.getElementById('player-queue-panel'),
    queueClose: document.getElementById('player-queue-close'),
    queue: document.getElementById('player-queue'),
    status: document.getElementById('player-status'),
    choices: document.getElementById('player-choices')
  };

  var queue = [];
  var index = -1;
  var original = null;      // with shuffle on: the queue in its own order (the same objects)
  var repeat = 'off';       // 'off', 'all' (the queue) or 'one' (the current track)
  var heartbeat = null;
  var checker = null;
  var attempt = 0;          // increases with every track start; stale answers are ignored
  var quietPauses = 0;      // pauses made by the player itself, whose events are not reported
  var halted = false;       // stopped for a reason shown in #player-status
  var diagnosing = false;
  var dragging = false;
  var pendingSeek = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function clock(secs) {
    if (!isFinite(secs) || secs < 0) { secs = 0; }
    secs = Math.floor(secs);
    var h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, s = secs % 60;
    var ss = (s < 10 ? '0' : '') + s;
    if (h > 0) { return h + ':' + (m < 10 ? '0' : '') + m + ':' + ss; }
    return m + ':' + ss;
  }

  function trackFrom(row) {
    return {
      id: row.getAttribute('data-track-id'),
      title: row.getAttribute('data-title') || '',
      artist: row.getAttribute('data-artist') || '',
      album: row.getAttribute('data-album') || '',
      cover: row.getAttribute('data-cover') || '',
      duration: (parseInt(row.getAttribute('data-duration-ms'), 10) || 0) / 1000
    };
  }

  function rowsOf(container) {
    var rows = (container || document).querySelectorAll('tr[data-track-id]');
    var out = [];
    for (var i = 0; i < rows.length; i++) { out.push(trackFrom(rows[i])); }
    return out;
  }

  function streamUrl(id, takeover) {
    var u = '/api/v1/tracks/' + encodeURIComponent(id) + '/stream';
    return takeover ? u + '?takeover=' + encodeURIComponent(takeover) : u;
  }

  function current() {
    return index >= 0 && index < queue.length ? queue[index] : null;
  }

  /* ---- what the bar shows ---- */

  /* Shows why playback stopped; `signIn` is a sign-in page address to offer, if any. */
  function showStatus(message, signIn) {
    ui.status.textContent = '';
    ui.status.appendChild(document.createTextNode(message));
    if (signIn) {
      ui.status.appendChild(document.createTextNode(' '));
      var a = el('a', 'player-signin', 'Sign in again');
      a.href = signIn;
      ui.status.appendChild(a);
    }
    ui.status.hidden = false;
  }

  function clearStatus() {
    ui.status.textContent = '';
    ui.status.hidden = true;
  }

  function hideChoices() {
    ui.choices.textContent = '';
    ui.choices.hidden = true;
  }

  function setToggle(playing) {
    ui.toggle.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    ui.toggle.title = playing ? 'Pause (Space)' : 'Play (Space)';
    root.classList.toggle('is-playing', playing);
    playbackState(playing ? 'playing' : 'paused');
  }

  function showTrack(t) {
    ui.title.textContent = t ? t.title : 'Nothing playing';
    ui.artist.textContent = t ? [t.artist, t.album].filter(Boolean).join(' — ') : '';
    if (t && t.cover) {
      ui.cover.src = t.cover;
      ui.cover.hidden = false;
    } else {
      ui.cover.removeAttribute('src');
      ui.cover.hidden = true;
    }
    ui.duration.textContent = clock(t ? t.duration : 0);
    ui.seek.max = t ? String(t.duration || 0) : '0';
    if (!dragging) {
      ui.seek.value = '0';
      ui.elapsed.textContent = clock(0);
    }
    describe(t);
    markRows(t);
    renderQueue();
    updateButtons();
  }

  /* Marks the page's rows of the track shown in the bar. */
  function markRows(t) {
    var rows = document.querySelectorAll('tr[data-track-id]');
    for (var i = 0; i < rows.length; i++) {
      rows[i].classList.toggle('now-playing', !!t && rows[i].getAttribute('data-track-id') === t.id);
    }
  }

  function updateButtons() {
    ui.prev.disabled = index < 0;
    ui.next.disabled = index < 0 || (index >= queue.length - 1 && repeat !== 'all');
    ui.toggle.disabled = queue.length === 0;
    ui.queueToggle.textContent = 'Queue (' + queue.length + ')';
    var on = original !== null;
    ui.shuffle.setAttribute('aria-pressed', on ? 'true' : 'false');
    ui.shuffle.title = on ? 'Shuffle: on' : 'Shuffle: off';
    ui.repeat.setAttribute('data-repeat', repeat);
    ui.repeat.setAttribute('aria-pressed', repeat === 'off' ? 'false' : 'true');
    ui.repeat.setAttribute('aria-label', 'Repeat: ' + repeat);
    ui.repeat.title = { off: 'Repeat: off', all: 'Repeat: all (the queue)', one: 'Repeat: one (this track)' }[repeat];
  }

  function renderQueue() {
    ui.queue.textContent = '';
    queue.forEach(function (t, i) {
      var li = el('li', i === index ? 'current' : '');
      var jump = el('button', 'queue-jump', t.title);
      jump.type = 'button';
      jump.setAttribute('data-index', String(i));
      if (i === index) { jump.setAttribute('aria-current', 'true'); }
      var who = el('span', 'queue-artist', t.artist);
      var drop = el('button', 'queue-remove subtle', '✕');
      drop.type = 'button';
      drop.setAttribute('data-index', String(i));
      drop.setAttribute('aria-label', 'Remove ' + t.title + ' from the queue');
      li.appendChild(jump);
      li.appendChild(who);
      li.appendChild(drop);
      ui.queue.appendChild(li);
    });
    updateButtons();
  }

  /* ---- talking to the server ---- */

  function readError(res) {
    return res.json().then(function (body) { return body || {}; }, function () { return {}; });
  }

  /* PUT /api/v1/playback. Resolves to {ok:true} or {ok:false, status, body}. */
  function report(state, track, keepalive) {
    if (!track) { return Promise.resolve({ ok: true }); }
    return fetch('/api/v1/playback', {
      method: 'PUT',
      credentials: 'same-origin',
      keepalive: !!keepalive,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ track_id: track.id, state: state })
    }).then(function (res) {
      if (res.ok) { return { ok: true }; }
      return readError(res).then(function (body) {
        return { ok: false, status: res.status, body: body };
      });
    });
  }

  /* Pauses without reporting it: the element's pause event comes later, as a task. */
  function pauseQuietly() {
    if (!audio.paused) {
      quietPauses += 1;
      audio.pause();
    }
  }

  function stopTimers() {
    if (heartbeat) { clearInterval(heartbeat); heartbeat = null; }
    if (checker) { clearInterval(checker); checker = null; }
  }

  function startTimers() {
    stopTimers();
    heartbeat = setInterval(function () {
      var t = current();
      if (!t || audio.paused || halted) { return; }
      report('playing', t).then(function (r) {
        if (!r.ok) { refused(r.status, r.body, t); }
      }, function () { /* offline for a moment: the next beat tries again */ });
    }, HEARTBEAT_MS);
    checker = setInterval(check, CHECK_MS);
  }

  /* Whether this device still holds its stream slot; if not, one report says why. */
  function check() {
    if (audio.paused || halted || diagnosing) { return; }
    fetch('/api/v1/playback', { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
      if (res.status === 401) {
        return readError(res).then(function (body) { refused(401, body, current()); });
      }
      if (!res.ok) { return; }
      return res.json().then(function (body) {
        var streams = (body && body.streams) || [];
        var mine = streams.some(function (s) { return s.device_id === deviceId; });
        if (!mine && !audio.paused) { diagnose(false); }
      });
    }, function () { /* network trouble: try again at the next check */ });
  }

  /* Something looks wrong (a cut or stalled stream, a lost slot): a report tells why. With
   * `failed`, the element cannot go on, so something is said even when the report succeeds. */
  function diagnose(failed) {
    var t = current();
    if (!t || halted || diagnosing) { return; }
    diagnosing = true;
    report('playing', t).then(function (r) {
      diagnosing = false;
      if (!r.ok) {
        refused(r.status, r.body, t);
      } else if (failed) {
        halt('This track could not be played.', false);
      }
    }, function () {
      diagnosing = false;
      if (failed) { halt('The server cannot be reached.', false); }
    });
  }

  /* The server refused a stream or a report: say why and stop, or offer to take over a slot. */
  function refused(status, body, track) {
    body = body || {};
    if (status === 409 && body.error === 'stream_limit_reached') {
      var n = Number(body.limit) || 0;
      halt(n > 0 ? 'This account already plays on ' + n + (n === 1 ? ' device' : ' devices') +
        ', its limit.' : 'Too many devices are playing.', false);
      offerTakeover(body, track);
      return;
    }
    if (status === 401) {
      try { sessionStorage.removeItem(STORE_KEY); } catch (e) { /* storage off */ }
      var signIn = '/signin' + (body.reason ? '?reason=' + encodeURIComponent(body.reason) : '');
      halt(body.error === 'signed_out' && body.message ? body.message
        : 'This device is not signed in.', signIn);
      return;
    }
    if (status === 409) {
      halt(body.message || 'Playback was stopped from another device.', false);
      return;
    }
    if (status === 404) {
      halt('This track is no longer in the library.', false);
      return;
    }
    halt(body.message || 'This track could not be played.', false);
  }

  /* Stops playback for a reason shown to the person. */
  function halt(message, signIn) {
    halted = true;
    stopTimers();
    pauseQuietly();
    if (audio.getAttribute('src')) {
      pendingSeek = audio.currentTime || 0;
      audio.removeAttribute('src');
      audio.load();
    }
    setToggle(false);
    showStatus(message, signIn);
  }

  function offerTakeover(body, track) {
    hideChoices();
    var streams = body.streams || [];
    ui.choices.appendChild(el('p', 'choices-lead', 'Playing now:'));
    var list = el('ul', 'choices-list');
    streams.forEach(function (s) {
      var li = el('li', 'choice');
      li.setAttribute('data-device-id', s.device_id);
      var what = s.track ? s.track.title + (s.track.artist ? ' by ' + s.track.artist : '') : 'a track';
      li.appendChild(el('span', 'choice-device', s.name));
      li.appendChild(el('span', 'choice-track', ' is playing ' + what + '. '));
      var b = el('button', 'takeover', 'Stop playback there and play here');
      b.type = 'button';
      b.setAttribute('data-device-id', s.device_id);
      li.appendChild(b);
      list.appendChild(li);
    });
    ui.choices.appendChild(list);
    var cancel = el('button', 'subtle choices-cancel', 'Cancel');
    cancel.type = 'button';
    ui.choices.appendChild(cancel);
    ui.choices.hidden = false;
    ui.choices.setAttribute('data-track-id', track ? track.id : '');
  }

  /* ---- playing ---- */

  function playAt(i, opts) {
    opts = opts || {};
    if (i < 0 || i >= queue.length) { return; }
    index = i;
    var t = queue[i];
    var mine = ++attempt;
    pendingSeek = 0;
    halted = false;
    clearStatus();
    hideChoices();
    stopTimers();
    pauseQuietly();
    showTrack(t);
    setToggle(true);
    save();
    // The first byte, to take this device's slot (or hear why not) before the element asks.
    fetch(streamUrl(t.id, opts.takeover), {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Range: 'bytes=0-0' }
    }).then(function (res) {
      if (mine !== attempt) { return; }
      if (!res.ok) {
        return readError(res).then(function (body) {
          if (mine === attempt) { refused(res.status, body, t); }
        });
      }
      res.arrayBuffer().catch(function () { });
      audio.src = streamUrl(t.id);
      if (opts.at) { pendingSeek = opts.at; }
      var p = audio.play();
      if (p && p.catch) {
        p.catch(function (err) {
          if (mine !== attempt) { return; }
          setToggle(false);
          if (err && err.name === 'NotAllowedError') {
            // The browser wants a click first (a queue restored after a page load).
            report('paused', t);
          }
        });
      }
    }, function () {
      if (mine === attempt) { halt('The server cannot be reached.', false); }
    });
  }

  function playQueue(tracks, start) {
    if (!tracks.length) { return; }
    queue = tracks.slice();
    index = Math.max(0, Math.min(start || 0, queue.length - 1));
    if (original !== null) {
      original = null;
      shuffleOn();
    }
    playAt(index);
  }

  function enqueue(tracks) {
    var wasEmpty = queue.length === 0;
    queue = queue.concat(tracks);
    if (original !== null) { original = original.concat(tracks); }
    if (wasEmpty) {
      index = 0;
      showTrack(queue[0]);
    } else {
      renderQueue();
    }
    save();
  }

  function togglePlay() {
    var t = current();
    if (!t) {
      if (queue.length) { playAt(0); }
      return;
    }
    if (!audio.getAttribute('src') || halted) {
      playAt(index, { at: pendingSeek || Number(ui.seek.value) || 0 });
      return;
    }
    if (audio.paused) {
      audio.play().catch(function () { setToggle(false); });
    } else {
      audio.pause();
    }
  }

  function next() {
    if (index < queue.length - 1) {
      playAt(index + 1);
    } else if (repeat === 'all' && queue.length) {
      playAt(0);
    }
  }

  function previous() {
    var wrap = index === 0 && repeat === 'all' && queue.length > 1;
    if (audio.currentTime > 3 || (index <= 0 && !wrap)) {
      if (audio.getAttribute('src')) { audio.currentTime = 0; }
      return;
    }
    playAt(wrap ? queue.length - 1 : index - 1);
  }

  /* Moves the playhead by `secs`, within the track. */
  function seekBy(secs) {
    if (!audio.getAttribute('src') || halted) { return; }
    var end = isFinite(audio.duration) ? audio.duration : Number(ui.seek.max) || 0;
    audio.currentTime = Math.max(0, Math.min(end, (audio.currentTime || 0) + secs));
  }

  /* Stops playback and gives the stream slot back, keeping the queue (the Media Session's stop). */
  function stop() {
    var t = current();
    attempt += 1;
    pauseQuietly();
    stopTimers();
    if (audio.getAttribute('src')) {
      audio.removeAttribute('src');
      audio.load();
    }
    pendingSeek = 0;
    halted = false;
    setToggle(false);
    showTrack(t);
    playbackState('none');
    report('stopped', t).then(function () { }, function () { });
    save();
  }

  /* ---- shuffle and repeat ---- */

  /* The current track first, then the rest of the queue in a random order. */
  function shuffleOn() {
    original = queue.slice();
    var cur = current();
    var rest = queue.filter(function (t, i) { return i !== index; });
    for (var i = rest.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var x = rest[i]; rest[i] = rest[j]; rest[j] = x;
    }
    queue = cur ? [cur].concat(rest) : rest;
    index = cur ? 0 : index;
  }

  /* Back to the queue's own order, at the same track. */
  function shuffleOff() {
    var cur = current();
    var kept = original.filter(function (t) { return queue.indexOf(t) >= 0; });
    var added = queue.filter(function (t) { return kept.indexOf(t) < 0; });
    queue = kept.concat(added);
    original = null;
    index = cur ? queue.indexOf(cur) : Math.min(index, queue.length - 1);
  }

  function toggleShuffle() {
    if (original === null) { shuffleOn(); } else { shuffleOff(); }
    renderQueue();
    save();
  }

  function cycleRepeat() {
    repeat = REPEAT_MODES[(REPEAT_MODES.indexOf(repeat) + 1) % REPEAT_MODES.length];
    updateButtons();
    save();
  }

  /* ---- volume, remembered in localStorage ---- */

  function showVolume() {
    var muted = audio.muted || audio.volume === 0;
    ui.volume.value = String(audio.muted ? 0 : audio.volume);
    ui.volume.setAttribute('aria-valuetext', muted ? 'Muted' : Math.round(audio.volume * 100) + '%');
    ui.mute.setAttribute('aria-pressed', muted ? 'true' : 'false');
    ui.mute.title = muted ? 'Unmute' : 'Mute';
    root.classList.toggle('is-muted', muted);
  }

  function loadVolume() {
    var v = null;
    try { v = JSON.parse(localStorage.getItem(VOLUME_KEY) || 'null'); } catch (e) { v = null; }
    if (v && typeof v.volume === 'number' && v.volume >= 0 && v.volume <= 1) {
      audio.volume = v.volume;
      audio.muted = !!v.muted;
    }
    showVolume();
  }

  function saveVolume() {
    try {
      localStorage.setItem(VOLUME_KEY, JSON.stringify({ volume: audio.volume, muted: audio.muted }));
    } catch (e) { /* storage off: the volume lasts as long as the page */ }
  }

  /* ---- the queue panel ---- */

  function setQueueOpen(open) {
    ui.queuePanel.hidden = !open;
    ui.queueToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    root.classList.toggle('queue-open', open);
    var cur = open && ui.queue.querySelector('li.current');
    if (cur) {
      // The playing track in view, without scrolling the page under the panel.
      var above = cur.getBoundingClientRect().top - ui.queue.getBoundingClientRect().top;
      ui.queue.scrollTop += above - ui.queue.clientHeight / 3;
    }
  }

  /* ---- the Media Session: lock screens, headsets, media keys ---- */

  var session = 'mediaSession' in navigator ? navigator.mediaSession : null;

  function describe(t) {
    if (!session || typeof MediaMetadata === 'undefined') { return; }
    try {
      session.metadata = t ? new MediaMetadata({
        title: t.title,
        artist: t.artist,
        album: t.album,
        artwork: artwork(t.cover)
      }) : null;
    } catch (e) { /* a browser without artwork support */ }
  }

  /* The cover at the bar's size and at the larger sizes lock screens show. */
  function artwork(cover) {
    if (!cover) { return []; }
    var url = new URL(cover, location.href);
    return [64, 256, 512].map(function (size) {
      url.searchParams.set('size', String(size));
      return { src: url.href, sizes: size + 'x' + size };
    });
  }

  function playbackState(state) {
    if (session) { session.playbackState = state; }
  }

  function positionState() {
    if (!session || !session.setPositionState) { return; }
    var d = audio.duration;
    try {
      if (audio.getAttribute('src') && isFinite(d) && d > 0) {
        session.setPositionState({
          duration: d,
          playbackRate: audio.playbackRate || 1,
          position: Math.max(0, Math.min(d, audio.currentTime || 0))
        });
      } else {
        session.setPositionState();
      }
    } catch (e) { /* a state the browser refuses: the next event sends a new one */ }
  }

  function handle(action, fn) {
    try { session.setActionHandler(action, fn); } catch (e) { /* an action this browser lacks */ }
  }

  if (session) {
    handle('play', function () { if (audio.paused) { togglePlay(); } });
    handle('pause', function () { if (!audio.paused) { audio.pause(); } });
    handle('stop', stop);
    handle('previoustrack', previous);
    handle('nexttrack', next);
    handle('seekbackward', function (d) { seekBy(-((d && d.seekOffset) || 10)); });
    handle('seekforward', function (d) { seekBy((d && d.seekOffset) || 10); });
    handle('seekto', function (d) {
      if (!d || typeof d.seekTime !== 'number' || !audio.getAttribute('src') || halted) { return; }
      if (d.fastSeek && audio.fastSeek) { audio.fastSeek(d.seekTime); } else { audio.currentTime = d.seekTime; }
      positionState();
    });
  }

  /* ---- the element's events ---- */

  audio.addEventListener('loadedmetadata', function () {
    if (isFinite(audio.duration)) {
      ui.seek.max = String(audio.duration);
      ui.duration.textContent = clock(audio.duration);
    }
    if (pendingSeek) {
      try { audio.currentTime = pendingSeek; } catch (e) { /* not seekable yet */ }
      pendingSeek = 0;
    }
    positionState();
  });

  ['durationchange', 'seeked', 'ratechange'].forEach(function (name) {
    audio.addEventListener(name, positionState);
  });

  audio.addEventListener('volumechange', function () {
    showVolume();
    saveVolume();
  });

  audio.addEventListener('timeupdate', function () {
    if (!dragging) {
      ui.seek.value = String(audio.currentTime);
      ui.elapsed.textContent = clock(audio.currentTime);
      ui.seek.setAttribute('aria-valuetext', clock(audio.currentTime) + ' of ' + ui.duration.textContent);
    }
  });

  audio.addEventListener('playing', function () {
    var t = current();
    setToggle(true);
    clearStatus();
    startTimers();
    playbackState('playing');
    positionState();
    report('playing', t).then(function (r) {
      if (!r.ok && t === current()) { refused(r.status, r.body, t); }
    }, function () { });
  });

  audio.addEventListener('pause', function () {
    if (quietPauses > 0) {
      quietPauses -= 1;
      return;
    }
    if (halted || audio.ended) { return; }
    setToggle(false);
    stopTimers();
    playbackState('paused');
    positionState();
    report('paused', current()).then(function (r) {
      if (!r.ok && r.status === 401) { refused(r.status, r.body, current()); }
    }, function () { });
    save();
  });

  audio.addEventListener('ended', function () {
    stopTimers();
    if (repeat === 'one') {
      playAt(index);
      return;
    }
    if (index < queue.length - 1) {
      playAt(index + 1);
      return;
    }
    if (repeat === 'all' && queue.length) {
      playAt(0);
      return;
    }
    setToggle(false);
    playbackState('paused');
    report('stopped', current()).then(function () { }, function () { });
    save();
  });

  audio.addEventListener('error', function () {
    if (halted || !audio.getAttribute('src')) { return; }
    stopTimers();
    diagnose(true);
  });

  audio.addEventListener('stalled', function () {
    if (!halted && !audio.paused) { diagnose(false); }
  });

  /* ---- controls ---- */

  ui.toggle.addEventListener('click', togglePlay);
  ui.next.addEventListener('click', next);
  ui.prev.addEventListener('click', previous);

  ui.seek.addEventListener('input', function () {
    dragging = true;
    ui.elapsed.textContent = clock(Number(ui.seek.value));
  });
  ui.seek.addEventListener('change', function () {
    dragging = false;
    var to = Number(ui.seek.value) || 0;
    if (audio.getAttribute('src') && !halted) {
      audio.currentTime = to;
    } else {
      pendingSeek = to;
    }
  });

  ui.shuffle.addEventListener('click', toggleShuffle);
  ui.repeat.addEventListener('click', cycleRepeat);

  ui.volume.addEventListener('input', function () {
    var v = Number(ui.volume.value);
    audio.volume = Math.max(0, Math.min(1, isFinite(v) ? v : 1));
    audio.muted = audio.volume === 0;
  });
  ui.mute.addEventListener('click', function () {
    if (audio.muted || audio.volume === 0) {
      if (audio.volume === 0) { audio.volume = 0.5; }
      audio.muted = false;
    } else {
      audio.muted = true;
    }
  });

  ui.queueToggle.addEventListener('click', function () {
    setQueueOpen(ui.queuePanel.hidden);
  });
  ui.queueClose.addEventListener('click', function () {
    setQueueOpen(false);
    ui.queueToggle.focus();
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && !ui.queuePanel.hidden) {
      var inside = ui.queuePanel.contains(document.activeElement);
      setQueueOpen(false);
      if (inside) { ui.queueToggle.focus(); }
    }
  });

  ui.queue.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-index]');
    if (!b) { return; }
    var i = parseInt(b.getAttribute('data-index'), 10);
    if (b.classList.contains('queue-jump')) {
      playAt(i);
      return;
    }
    var removed = queue.splice(i, 1)[0];
    if (original !== null && original.indexOf(removed) >= 0) {
      original.splice(original.indexOf(removed), 1);
    }
    if (i < index) {
      index -= 1;
    } else if (i === index) {
      // The playing track left the queue: stop it and show the one that took its place.
      attempt += 1;
      pauseQuietly();
      stopTimers();
      report('stopped', removed).then(function () { }, function () { });
      audio.removeAttribute('src');
      audio.load();
      setToggle(false);
      index = Math.min(index, queue.length - 1);
      showTrack(current());
    }
    renderQueue();
    save();
  });

  ui.choices.addEventListener('click', function (ev) {
    var b = ev.target.closest('button');
    if (!b) { return; }
    if (b.classList.contains('choices-cancel')) {
      hideChoices();
      clearStatus();
      return;
    }
    var device = b.getAttribute('data-device-id');
    if (device && current()) {
      playAt(index, { takeover: device, at: pendingSeek });
    }
  });

  /* Buttons on the page: Play (this track and the rest of its list), Add to queue, Play album. */
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button.play-track, button.queue-track, #play-album, #queue-album');
    if (!b) { return; }
    ev.preventDefault();
    if (b.id === 'play-album' || b.id === 'queue-album') {
      var all = rowsOf(document.getElementById('tracks'));
      if (b.id === 'play-album') { playQueue(all, 0); } else { enqueue(all); }
      return;
    }
    var row = b.closest('tr[data-track-id]');
    if (!row) { return; }
    if (b.classList.contains('queue-track')) {
      enqueue([trackFrom(row)]);
      return;
    }
    var list = rowsOf(row.closest('tbody') || document);
    var id = row.getAttribute('data-track-id');
    var at = 0;
    for (var i = 0; i < list.length; i++) {
      if (list[i].id === id) { at = i; break; }
    }
    playQueue(list, at);
  });

  /* Selects that apply themselves (the album sort) and the M3U8 file picker. */
  document.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t.matches && t.matches('select[data-autosubmit]') && t.form) {
      t.form.submit();
    }
    if (t.id === 'import-file' && t.files && t.files[0]) {
      var file = t.files[0];
      file.text().then(function (text) {
        var area = document.getElementById('import-m3u8');
        var name = document.getElementById('import-name');
        if (area) { area.value = text; }
        if (name && !name.value) { name.value = file.name.replace(/\.m3u8?$/i, ''); }
      });
    }
  });

  /* Keys for the player, except where a key belongs to the focused control or to the browser. */
  var OWN_KEYS = 'input, textarea, select, button, summary, [contenteditable], [role="button"], ' +
    '[role="slider"], [role="textbox"], [role="combobox"], [role="listbox"], [role="menu"]';

  document.addEventListener('keydown', function (ev) {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey || !queue.length) { return; }
    var target = ev.target;
    if (target && target.nodeType === 1 &&
        (target.isContentEditable || (target.closest && target.closest(OWN_KEYS)))) { return; }
    var key = ev.key;
    if ((key === ' ' || key === 'Spacebar') && !ev.shiftKey) {
      ev.preventDefault();
      if (!ev.repeat) { togglePlay(); }
    } else if (key === 'ArrowLeft' || key === 'ArrowRight') {
      ev.preventDefault();
      var forward = key === 'ArrowRight';
      if (ev.shiftKey) {
        if (!ev.repeat) { if (forward) { next(); } else { previous(); } }
      } else {
        seekBy(forward ? SEEK_STEP : -SEEK_STEP);
      }
    }
  });

  /* ---- the queue across page loads ---- */

  function save() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify({
        device: deviceId,
        queue: queue,
        index: index,
        original: original === null ? null : original.map(function (t) { return queue.indexOf(t); }),
        repeat: repeat,
        at: audio.getAttribute('src') ? audio.currentTime : (pendingSeek || 0),
        playing: !audio.paused && !halted
      }));
    } catch (e) { /* storage off or full: the queue lives as long as the page */ }
  }

  window.addEventListener('pagehide', function () {
    var wasPlaying = !audio.paused && !halted;
    save();
    if (wasPlaying) {
      // The next page picks up where this one left off; until then the slot is not held.
      report('paused', current(), true);
    }
  });

  (function restore() {
    loadVolume();
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null'); } catch (e) { saved = null; }
    if (!saved || saved.device !== deviceId || !Array.isArray(saved.queue) || !saved.queue.length) {
      setToggle(false);
      updateButtons();
      return;
    }
    queue = saved.queue;
    index = Math.max(0, Math.min(saved.index | 0, queue.length - 1));
    repeat = REPEAT_MODES.indexOf(saved.repeat) >= 0 ? saved.repeat : 'off';
    if (Array.isArray(saved.original) && saved.original.length === queue.length) {
      var order = saved.original.map(function (i) { return queue[i]; });
      if (order.every(Boolean) && order.every(function (t, i) { return order.indexOf(t) === i; })) {
        original = order;
      }
    }
    showTrack(queue[index]);
    pendingSeek = Number(saved.at) || 0;
    ui.seek.value = String(pendingSeek);
    ui.elapsed.textContent = clock(pendingSeek);
    setToggle(false);
    if (saved.playing) {
      playAt(index, { at: pendingSeek });
    }
  })();
}());
