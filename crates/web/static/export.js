/* The export pages' script. Everything works without it; with it:
 * - choosing a playlist or album shows its songs at once,
 * - "Tick all" / "Tick none" buttons,
 * - only the chosen format's settings are shown,
 * - an export's page follows its progress live from the server-sent events. */
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  document.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t.matches('select[data-autosubmit]') && t.form && t.value) {
      t.form.submit();
    }
    if (t.id === 'format') {
      showSettingsFor(t.value);
    }
  });

  document.addEventListener('click', function (ev) {
    var t = ev.target;
    if (t.id === 'tick-all' || t.id === 'tick-none') {
      var boxes = document.querySelectorAll('#export-songs input[type=checkbox]');
      for (var i = 0; i < boxes.length; i++) {
        boxes[i].checked = t.id === 'tick-all';
      }
    }
  });

  /* Shows the fields whose data-for lists the format, hides the others. */
  function showSettingsFor(format) {
    var fields = document.querySelectorAll('#export-settings [data-for]');
    for (var i = 0; i < fields.length; i++) {
      var formats = fields[i].getAttribute('data-for').split(' ');
      fields[i].hidden = formats.indexOf(format) < 0;
    }
  }

  function setBar(bar, fraction) {
    if (!bar) { return; }
    var pct = Math.round(Math.min(Math.max(fraction, 0), 1) * 100);
    bar.value = pct;
    bar.textContent = pct + '%';
    var label = bar.parentNode.querySelector('.pct');
    if (label) { label.textContent = pct + '%'; }
  }

  var STATES = { pending: 'Waiting', converting: 'Converting', done: 'Done', failed: 'Failed' };

  function follow(section) {
    var source = new EventSource(section.getAttribute('data-events'));
    source.addEventListener('progress', function (ev) {
      var p = JSON.parse(ev.data);
      setBar(document.getElementById('overall-bar'), p.overall);
      var done = document.getElementById('export-done');
      if (done) { done.textContent = String(p.done); }
      p.files.forEach(function (f) {
        var row = document.querySelector('#export-files tr[data-position="' + f.position + '"]');
        if (!row) { return; }
        setBar(row.querySelector('progress'), f.state === 'done' || f.state === 'failed' ? 1 : f.fraction);
        var state = row.querySelector('.file-state');
        if (state && STATES[f.state] && !row.querySelector('.file-error')) {
          state.textContent = STATES[f.state];
        }
      });
      if (p.state !== 'running') {
        source.close();
        // The ended export's page from the server: sizes, errors, and Remove instead of Cancel.
        window.location.reload();
      }
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        var st = document.getElementById('export-state');
        if (st) { st.textContent = 'Live progress stopped. Reload the page to see where the export is.'; }
      }
    };
  }

  function start() {
    var format = document.getElementById('format');
    if (format) { showSettingsFor(format.value); }
    var section = document.getElementById('export-progress');
    if (section && section.getAttribute('data-state') === 'running' && window.EventSource) {
      follow(section);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
