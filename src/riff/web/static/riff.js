// RIFF UI glue. Loaded on every page by base.html; no inline scripts anywhere (CSP 'self').
(function () {
  "use strict";

  function flashArea() {
    return document.getElementById("flash-area");
  }

  // Show a toast like the server-rendered ones (components/flash.html).
  function showToast(message, kind) {
    var area = flashArea();
    if (!area) return;
    var toast = document.createElement("div");
    toast.className = "toast toast--" + (kind || "info");
    toast.setAttribute("role", kind === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.className = "toast__message";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("data-dismiss", "toast");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    toast.appendChild(text);
    toast.appendChild(close);
    area.appendChild(toast);
  }
  window.riffToast = showToast;

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.matches("[data-dismiss='toast']")) {
      var toast = target.closest(".toast");
      if (toast) toast.remove();
    }
  });

  // htmx does not swap 4xx/5xx responses; tell the user what went wrong instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var message = "Request failed (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_ignored) {
      // not JSON: keep the generic message
    }
    showToast(message, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Could not reach RIFF. Check your connection and try again.", "error");
  });
})();
