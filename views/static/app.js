// Histoscope form helpers (progressive enhancement; the form works without this file):
// drag and drop onto the file field, a preview of the chosen file's name, and the magnification
// pre-selected from a BreakHis file name such as SOB_M_DC-14-2523-100-007.png.
(function () {
  'use strict';
  var input = document.getElementById('image');
  var zone = document.getElementById('dropzone');
  var select = document.getElementById('mag');
  var chosen = document.getElementById('chosen');
  var note = document.getElementById('mag-note');
  var form = document.getElementById('analyse-form');
  if (!input || !zone || !select) return;

  function magnificationFromName(name) {
    var m = /^SOB_[BM]_[A-Z]+-\d+-\d+[A-Z]*-(40|100|200|400)-\d+\.(png|jpe?g|tiff?)$/i.exec(name);
    return m ? m[1] + 'X' : null;
  }

  function onFile() {
    var file = input.files && input.files[0];
    if (!file) return;
    chosen.textContent = file.name + ' (' + (file.size / 1e6).toFixed(2) + ' MB)';
    var mag = magnificationFromName(file.name);
    if (mag) {
      select.value = mag;
      note.textContent = mag + ' was selected from the BreakHis file name.';
    } else {
      note.textContent = 'Not a BreakHis file name: check the magnification.';
    }
  }

  input.addEventListener('change', onFile);
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
  if (form) {
    form.addEventListener('submit', function () {
      var button = document.getElementById('submit');
      if (button) { button.disabled = true; button.textContent = 'Analysing…'; }
    });
  }
})();
