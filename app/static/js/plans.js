// Plan dialogs: open them modally, give focus back on close, stop a plan when its dialog closes,
// copy buttons, and the context character counter. Plain JavaScript; safe to load twice.
(function () {
  "use strict";
  if (window.codexPlans) { window.codexPlans.scan(document); return; }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function stopRun(run) {
    if (!run || run.querySelector("[data-plan-finished]")) return;
    fetch(run.getAttribute("data-stop-url"), {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" }
    });
  }

  // The element that asked for the dialog gets the focus back when it closes.
  var lastActivator = null;
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("a, button");
    if (target && !target.closest("dialog")) lastActivator = target;
  }, true);

  function openDialog(dialog) {
    if (dialog.open || dialog.hasAttribute("data-plan-opened")) return;
    dialog.setAttribute("data-plan-opened", "");
    var opener = document.activeElement && document.activeElement !== document.body
      ? document.activeElement : lastActivator;
    dialog.addEventListener("close", function () {
      // Closing the dialog stops its plan; removing it closes the EventSource.
      dialog.querySelectorAll("[data-plan-run]").forEach(stopRun);
      if (window.htmx) { window.htmx.remove(dialog); } else { dialog.remove(); }
      if (opener && document.body.contains(opener)) opener.focus();
    });
    dialog.showModal();
    var field = dialog.querySelector("textarea") || dialog.querySelector("[data-plan-close]");
    if (field) field.focus();
  }

  function scan(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("dialog[data-plan-dialog]").forEach(openDialog);
  }

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    (button.closest("dialog") || document.body).appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-plan-close")) {
      button.closest("dialog").close();
    } else if (button.classList.contains("plan-copy")) {
      var code = button.closest(".plan-command").querySelector("code");
      copyText(code.textContent, button);
    } else if (button.hasAttribute("data-copy-target")) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (source) copyText(source.textContent, button);
    }
  });

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.hasAttribute || !area.hasAttribute("data-plan-limit")) return;
    var limit = parseInt(area.getAttribute("data-plan-limit"), 10);
    var hint = document.getElementById(area.id.replace(/-context$/, "-limit"));
    var count = hint && hint.querySelector("[data-plan-count]");
    if (count) count.textContent = area.value.length.toLocaleString();
    if (hint) hint.classList.toggle("over-limit", area.value.length > limit);
  });

  document.addEventListener("htmx:sseClose", function (event) {
    var run = event.target.closest && event.target.closest("[data-plan-run]");
    if (!run) return;
    var output = run.querySelector(".plan-output");
    if (output) output.setAttribute("aria-busy", "false");
    document.body.dispatchEvent(new CustomEvent("codex:plan-finished", { bubbles: true }));
  });

  document.addEventListener("htmx:load", function (event) { scan(event.target); });
  window.codexPlans = { scan: scan };
  scan(document);
})();
