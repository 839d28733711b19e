/* Workbench behaviour (no inline scripts, no CDN): confirmations on irreversible steps, typeahead
   pickers for items / jurisdictions / halls, the facts fields of the chosen item, the 代领 fields.
   Every form still posts and is checked on the server without this file. */
(function () {
  "use strict";

  // --- confirmations: <form data-confirm="..."> ---------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // --- typeahead pickers ------------------------------------------------------------------
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function setupPicker(box) {
    var input = box.querySelector(".picker-input");
    var hidden = box.querySelector(".picker-value");
    var list = box.querySelector(".picker-list");
    var source = box.dataset.source;
    var nearFrom = box.dataset.nearFrom ? document.getElementById(box.dataset.nearFrom) : null;
    var active = -1;
    var rows = [];
    var seq = 0;

    function choose(row) {
      hidden.value = row.value;
      input.value = row.label;
      input.setCustomValidity("");
      list.hidden = true;
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function highlight(index) {
      var items = list.querySelectorAll("li");
      items.forEach(function (li, i) { li.classList.toggle("active", i === index); li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
    }

    function render(results) {
      rows = results;
      list.innerHTML = "";
      results.forEach(function (row, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.value = row.value;
        var label = document.createElement("span");
        label.textContent = row.label;
        var detail = document.createElement("small");
        detail.textContent = row.detail || "";
        li.appendChild(label);
        li.appendChild(detail);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(row); });
        li.addEventListener("mouseenter", function () { highlight(i); });
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      highlight(results.length ? 0 : -1);
    }

    var load = debounce(function () {
      var url = source + "?q=" + encodeURIComponent(input.value.trim());
      if (nearFrom && nearFrom.value) { url += "&near=" + encodeURIComponent(nearFrom.value); }
      var mine = ++seq;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) { if (mine === seq && document.activeElement === input) { render(body.results || []); } })
        .catch(function () { /* offline: the typed text is still checked on the server */ });
    }, 150);

    input.addEventListener("input", function () {
      hidden.value = "";  // what is typed is not yet a choice
      load();
    });
    input.addEventListener("focus", load);
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 100); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden || !rows.length) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, rows.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(rows[active]); }
      else if (e.key === "Escape") { list.hidden = true; }
    });
  }

  document.querySelectorAll(".picker").forEach(setupPicker);

  // --- the facts the chosen item's result certifies ----------------------------------------
  var receive = document.getElementById("receive-form");
  if (receive) {
    var itemValue = receive.querySelector("input[name=item]");
    var fieldset = document.getElementById("facts-fields");
    var grid = fieldset.querySelector(".grid");
    var prefillNode = document.getElementById("form-facts");
    var prefill = prefillNode ? JSON.parse(prefillNode.textContent || "{}") : {};

    var showFacts = function () {
      var code = itemValue.value;
      grid.innerHTML = "";
      fieldset.hidden = true;
      if (!code) { return; }
      var url = receive.dataset.factsUrl.replace("CODE", encodeURIComponent(code));
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { facts: [] }; })
        .then(function (body) {
          (body.facts || []).forEach(function (f) {
            var label = document.createElement("label");
            label.textContent = f.label + (f.required ? "" : (receive.dataset.optionalLabel || ""));
            var input = document.createElement(f.max_length > 200 ? "textarea" : "input");
            input.name = "fact_" + f.key;
            input.maxLength = f.max_length;
            input.required = !!f.required;
            input.placeholder = f.hint || "";
            input.value = prefill[f.key] || "";
            if (f.kind === "id_number") { input.autocomplete = "off"; }
            label.appendChild(input);
            grid.appendChild(label);
          });
          fieldset.hidden = !(body.facts || []).length;
        })
        .catch(function () {});
    };
    itemValue.addEventListener("change", showFacts);
    if (itemValue.value) { showFacts(); }
  }

  // --- 代领: the collector's fields are needed only when someone else collects -------------------
  document.querySelectorAll("input.toggle[data-toggle]").forEach(function (box) {
    var target = document.getElementById(box.dataset.toggle);
    if (!target) { return; }
    var sync = function () {
      target.hidden = !box.checked;
      target.querySelectorAll("input").forEach(function (i) { i.required = box.checked; });
    };
    box.addEventListener("change", sync);
    sync();
  });
})();
