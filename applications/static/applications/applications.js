/* Progressive enhancement for the application pages; every form also works without this file.
   - upload forms: send each chosen file on its own XMLHttpRequest with a progress bar per file;
   - forms marked data-once: disable the button after the first submit (the server is idempotent
     anyway, this just spares a second round trip);
   - step 2 selects: refresh the disease list and its checklist on change;
   - data-print buttons: print the receipt. */
(function () {
  "use strict";

  function row(container, name) {
    var div = document.createElement("div");
    div.className = "row";
    var label = document.createElement("div");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    div.appendChild(label); div.appendChild(bar);
    container.appendChild(div);
    return { div: div, bar: bar, label: label };
  }

  function sendOne(form, file, container) {
    return new Promise(function (resolve) {
      var ui = row(container, file.name);
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("slot", form.querySelector("[name=slot]").value);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { ui.bar.value = Math.round(e.loaded * 100 / e.total); }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = { ok: false, errors: [xhr.status + ""] }; }
        ui.bar.value = 100;
        if (!body.ok) {
          var msg = document.createElement("div");
          msg.className = "error";
          msg.textContent = (body.errors || []).join(" ");
          ui.div.appendChild(msg);
        }
        resolve(body.ok);
      });
      xhr.addEventListener("error", function () {
        var msg = document.createElement("div");
        msg.className = "error";
        msg.textContent = "网络错误，请重试";
        ui.div.appendChild(msg);
        resolve(false);
      });
      xhr.send(data);
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      var files = [];
      form.querySelectorAll("input[type=file]").forEach(function (input) {
        Array.prototype.forEach.call(input.files, function (f) { files.push(f); });
      });
      if (!files.length) { return; }  // let the server say "please choose a file"
      event.preventDefault();
      var container = form.querySelector("[data-progress]");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var allOk = true;
      // One after another: phones on weak networks do better than with parallel uploads.
      files.reduce(function (chain, file) {
        return chain.then(function () { return sendOne(form, file, container).then(function (ok) { allOk = allOk && ok; }); });
      }, Promise.resolve()).then(function () {
        if (allOk) { window.location.reload(); } else { button.disabled = false; }
      });
    });
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { setTimeout(function () { b.disabled = true; }, 0); });
    });
  });

  // Step 2: changing region, scheme or disease reloads the list and the disease's checklist.
  var refresh = document.querySelector("[data-refresh-button]");
  if (refresh) {
    document.querySelectorAll("[data-refresh] select").forEach(function (select) {
      select.addEventListener("change", function () { refresh.click(); });
    });
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
