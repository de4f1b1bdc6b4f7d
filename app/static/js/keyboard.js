// K9s-style keys: "/" focuses the filter box, ":" opens the kind switcher (aliases: po, deploy, svc...).
// Plain JavaScript, no build step. Works with htmx swaps because it looks elements up on each key press.
(function () {
  "use strict";

  function typingInField(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function switcher() { return document.getElementById("kind-switcher"); }

  function aliasMap(dialog) {
    var map = {};
    dialog.querySelectorAll("datalist option").forEach(function (opt) {
      map[opt.value.toLowerCase()] = opt.getAttribute("data-kind");
    });
    return map;
  }

  function openSwitcher() {
    var dialog = switcher();
    if (!dialog || dialog.open) return;
    var input = dialog.querySelector("input");
    input.value = "";
    dialog.querySelector(".kind-switcher-error").hidden = true;
    dialog.showModal();
    input.focus();
  }

  function goToKind(dialog) {
    var input = dialog.querySelector("input");
    var word = input.value.trim().replace(/^:/, "").toLowerCase();
    var kind = aliasMap(dialog)[word];
    if (!kind) {
      dialog.querySelector(".kind-switcher-error").hidden = false;
      return;
    }
    var url = dialog.getAttribute("data-url-template").replace("__KIND__", encodeURIComponent(kind));
    dialog.close();
    window.location.assign(url);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = switcher();
    if (dialog && dialog.open) {
      if (event.key === "Enter") { event.preventDefault(); goToKind(dialog); }
      return; // Esc closes the <dialog> natively
    }
    if (typingInField(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "/") {
      var filter = document.querySelector("[data-filter]");
      if (filter) { event.preventDefault(); filter.focus(); filter.select(); }
    } else if (event.key === ":") {
      if (switcher()) { event.preventDefault(); openSwitcher(); }
    }
  });
})();
