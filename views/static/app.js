// Histoscope page helpers (progressive enhancement; the single-file form works without this file):
// file preview and the magnification pre-selected from a BreakHis file name; the metrics panel
// following the selector; submitting without leaving the page, so the chosen file stays after an
// error; the result viewer (opacity, layout, map toggle, zoom); and many files at once as a table.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var input = $('image');
  var zone = $('dropzone');
  var select = $('mag');
  var chosen = $('chosen');
  var note = $('mag-note');
  var form = $('analyse-form');
  var preview = $('preview');

  function magnificationFromName(name) {
    var m = /^SOB_[BM]_[A-Z]+-\d+-\d+[A-Z]*-(40|100|200|400)-\d+\.(png|jpe?g|tiff?)$/i.exec(name);
    return m ? m[1] + 'X' : null;
  }

  // The metrics panel shows the model the selector names (also while moving with the arrow keys).
  function showMetrics(mag) {
    var panels = document.querySelectorAll('.metrics-panel');
    for (var i = 0; i < panels.length; i++) panels[i].hidden = panels[i].getAttribute('data-mag') !== mag;
  }

  function selectMagnification(mag, why) {
    if (!select || !mag) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === mag) {
        select.value = mag;
        showMetrics(mag);
        if (note && why) note.textContent = why;
        return;
      }
    }
  }

  var previewUrl = null;
  function onFile() {
    var file = input.files && input.files[0];
    if (!file) return;
    chosen.textContent = file.name + ' (' + (file.size / 1e6).toFixed(2) + ' MB)';
    if (preview) {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(file);
      preview.src = previewUrl;
      preview.hidden = false;
    }
    var mag = magnificationFromName(file.name);
    if (mag && select.value !== 'pooled') selectMagnification(mag, mag + ' was selected from the BreakHis file name.');
    else if (!mag && note) note.textContent = 'Not a BreakHis file name: check the magnification.';
  }

  function showError(message) {
    var area = $('error-area');
    if (!area) return;
    area.textContent = '';
    var box = document.createElement('div');
    box.className = 'banner banner-error';
    box.setAttribute('role', 'alert');
    box.id = 'error';
    var strong = document.createElement('strong');
    strong.textContent = 'Not analysed.';
    box.appendChild(strong);
    box.appendChild(document.createTextNode(' ' + message));
    area.appendChild(box);
  }

  if (input && zone && select) {
    input.addEventListener('change', onFile);
    select.addEventListener('change', function () { showMetrics(select.value); });
    select.addEventListener('input', function () { showMetrics(select.value); });
    select.addEventListener('keyup', function () { showMetrics(select.value); });
    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add('dragging'); });
    });
    ['dragleave', 'drop'].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove('dragging'); });
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        onFile();
      }
    });
  }

  if (form && window.fetch && window.FormData) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var button = $('submit');
      if (button) { button.disabled = true; button.textContent = 'Analysing…'; }
      fetch(form.action, { method: 'POST', body: new FormData(form), headers: { Accept: 'application/json' } })
        .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body }; }); })
        .then(function (answer) {
          if (answer.ok && answer.body.url) { window.location.assign(answer.body.url); return; }
          // The file stays chosen; a mismatch switches the selector to the file's magnification.
          if (answer.body.selected) selectMagnification(answer.body.selected, answer.body.selected + ' is the magnification in the file name.');
          showError(answer.body.error || 'The server could not analyse this image.');
          if (button) { button.disabled = false; button.textContent = 'Analyse'; }
        })
        .catch(function () {
          showError('The server could not be reached. Check the connection and try again.');
          if (button) { button.disabled = false; button.textContent = 'Analyse'; }
        });
    });
  }

  // A result page: bring the verdict into view and to screen readers' attention.
  var verdict = $('verdict');
  if (verdict) {
    verdict.scrollIntoView({ block: 'start' });
    verdict.focus({ preventScroll: true });
  }

  // The viewer: the uploaded image with the map as its own layer, so opacity changes need no server.
  var controls = $('viewer-controls');
  var figures = $('figures');
  var overlay = $('overlay');
  var layer = $('heatmap-layer');
  var uploaded = $('uploaded');
  if (controls && figures && overlay && layer && uploaded) {
    controls.hidden = false;
    overlay.src = uploaded.src;
    layer.hidden = false;
    var opacity = $('opacity');
    var setOpacity = function () { layer.style.opacity = String(Number(opacity.value) / 100); };
    opacity.addEventListener('input', setOpacity);
    setOpacity();
    var radios = controls.querySelectorAll('input[name=layout]');
    for (var i = 0; i < radios.length; i++) {
      radios[i].addEventListener('change', function (e) { figures.setAttribute('data-layout', e.target.value); });
    }
    var toggle = $('toggle-map');
    toggle.addEventListener('click', function () {
      layer.hidden = !layer.hidden;
      toggle.setAttribute('aria-pressed', String(!layer.hidden));
      toggle.textContent = layer.hidden ? 'Show map' : 'Hide map';
    });
    $('zoom').addEventListener('change', function (e) { figures.setAttribute('data-zoom', e.target.value); });
  }

  // Many files: each posted to the JSON API (the server batches concurrent requests), a row each.
  var batch = $('batch');
  var batchFiles = $('batch-files');
  var batchRun = $('batch-run');
  var results = $('batch-results');
  var tbody = results && results.querySelector('tbody');
  var csv = $('batch-csv');
  var status = $('batch-status');
  if (batch && batchFiles && batchRun && tbody && window.fetch) {
    batch.hidden = false;
    var ids = [];
    var cell = function (row, text) { var td = document.createElement('td'); td.textContent = text; row.appendChild(td); return td; };
    var analyseOne = function (file, row) {
      var mag = select.value === 'pooled' ? 'pooled' : (magnificationFromName(file.name) || select.value);
      row.children[2].textContent = mag === 'pooled' ? 'any (pooled)' : mag;
      var body = new FormData();
      body.append('mag', mag);
      body.append('image', file, file.name);
      return fetch('/api/predict', { method: 'POST', body: body })
        .then(function (res) { return res.json(); })
        .then(function (answer) {
          if (answer.error) { row.children[3].textContent = 'not analysed'; row.children[5].textContent = answer.error; return; }
          row.children[3].textContent = answer.label;
          row.children[4].textContent = answer.probability.toFixed(3) + ' (rule: ≥ ' + answer.threshold.toFixed(2) + ')';
          var notes = (answer.warnings || []).map(function (w) { return w.message || String(w); });
          if (answer.demo) notes.unshift('demo model: not for patients');
          row.children[5].textContent = notes.join('; ');
          var a = document.createElement('a');
          a.href = answer.url;
          a.textContent = 'open';
          row.children[6].appendChild(a);
          ids.push(answer.id);
          csv.href = '/results.csv?ids=' + ids.join(',');
          csv.hidden = false;
        })
        .catch(function () { row.children[5].textContent = 'The server could not be reached.'; });
    };
    batchRun.addEventListener('click', function () {
      var files = Array.prototype.slice.call(batchFiles.files || []);
      if (!files.length) { status.textContent = 'Choose one or more images first.'; return; }
      results.hidden = false;
      var rows = files.map(function (file) {
        var row = document.createElement('tr');
        var thumb = document.createElement('img');
        thumb.src = URL.createObjectURL(file);
        thumb.alt = '';
        cell(row, '').appendChild(thumb);
        cell(row, file.name);
        for (var c = 0; c < 5; c++) cell(row, c === 1 ? '…' : '');
        tbody.appendChild(row);
        return row;
      });
      var next = 0;
      var done = 0;
      status.textContent = 'Analysing ' + files.length + ' images…';
      var worker = function () {
        if (next >= files.length) return Promise.resolve();
        var i = next++;
        return analyseOne(files[i], rows[i]).then(function () {
          done++;
          status.textContent = done + ' of ' + files.length + ' analysed.';
          return worker();
        });
      };
      Promise.all([worker(), worker(), worker(), worker()]);
    });
  }
})();
