// The dashboard's few behaviours htmx does not cover: open/close the <dialog>, show toasts.
(function () {
  "use strict";

  function modal() { return document.getElementById("modal"); }

  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + (level || "info");
    item.setAttribute("role", level === "error" ? "alert" : "status");
    item.textContent = message; // text, never HTML
    box.appendChild(item);
    setTimeout(function () { item.classList.add("toast-out"); }, level === "error" ? 7000 : 3500);
    setTimeout(function () { item.remove(); }, level === "error" ? 7600 : 4100);
  }

  // A form (or clone) swapped into the dialog opens it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = modal();
    if (dialog && event.detail.target && event.detail.target.id === "modal-body" && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]):checked, select, input:not([type=hidden])");
      if (first) first.focus();
    }
  });

  // Server events sent with HX-Trigger.
  document.body.addEventListener("closeModal", function () {
    var dialog = modal();
    if (dialog && dialog.open) dialog.close();
  });
  document.body.addEventListener("notify", function (event) {
    var detail = event.detail || {};
    toast(detail.message, detail.level);
  });

  // Cancel / × in the dialog; on the stand-alone form page they go back.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-close-modal]");
    if (!button) return;
    event.preventDefault();
    var dialog = button.closest("dialog");
    if (dialog) dialog.close();
    else if (history.length > 1) history.back();
    else location.href = "/";
  });

  // A click on the backdrop closes the dialog.
  document.addEventListener("click", function (event) {
    var dialog = modal();
    if (dialog && event.target === dialog) dialog.close();
  });

  // Followed log lines replace the "no lines" note and keep the view at the bottom.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var logs = event.detail.target;
    if (!logs || logs.id !== "log-lines") return;
    var empty = logs.querySelector(".muted");
    if (empty) empty.remove();
    logs.scrollTop = logs.scrollHeight;
  });

  // Messages of a non-HTMX round trip fade like the others.
  document.querySelectorAll("#toasts .toast").forEach(function (item) {
    setTimeout(function () { item.classList.add("toast-out"); }, 4000);
    setTimeout(function () { item.remove(); }, 4600);
  });
})();
