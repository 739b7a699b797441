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

  function csrfToken() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.getAttribute("content") : "";
  }

  // ---- inventory: select rows, bulk bar -----------------------------------------------------------

  function bulkForm() {
    return document.getElementById("bulk-form");
  }

  function selectedBoxes() {
    return document.querySelectorAll("input[name='ids'][form='bulk-form']");
  }

  function updateBulkBar() {
    var form = bulkForm();
    if (!form) return;
    var boxes = selectedBoxes();
    var count = 0;
    boxes.forEach(function (box) { if (box.checked) count += 1; });
    var counter = form.querySelector("[data-bulk-count]");
    if (counter) counter.textContent = String(count);
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && count === boxes.length;
      all.indeterminate = count > 0 && count < boxes.length;
    }
    var action = form.querySelector("[data-bulk-action]");
    var chosen = action ? action.value : "";
    form.querySelectorAll("[data-bulk-show]").forEach(function (part) {
      part.hidden = (part.getAttribute("data-bulk-show") || "").split(" ").indexOf(chosen) === -1;
    });
    var submit = form.querySelector("[data-bulk-submit]");
    if (submit) submit.disabled = count === 0 || !chosen;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) return;
    if (target.matches("[data-select-all]")) {
      selectedBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], input[name='ids'], [data-bulk-action]")) updateBulkBar();
    if (target.matches("[data-image-preview]")) previewImages(target);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.id === "bulk-form") {
      // The list URL changes with htmx filters; come back to what is on screen now.
      var back = form.querySelector("[data-bulk-return]");
      if (back) back.value = window.location.pathname + window.location.search;
    }
  });

  // ---- images: preview before upload ----------------------------------------------------------------

  function previewImages(input) {
    var list = document.getElementById(input.getAttribute("data-image-preview") || "");
    if (!list || !input.files) return;
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file, index) {
      var item = document.createElement("li");
      item.className = "image-tile";
      var reader = new FileReader();
      reader.onload = function () {
        var img = document.createElement("img");
        img.alt = "Preview of " + file.name;
        img.src = String(reader.result); // a data: URL (the CSP allows data: images, not blob:)
        item.insertBefore(img, item.firstChild);
      };
      reader.readAsDataURL(file);
      var bar = document.createElement("div");
      bar.className = "image-tile__bar";
      var pos = document.createElement("span");
      pos.className = "image-tile__pos";
      pos.textContent = (index + 1) + (index === 0 ? " · main" : "") + " · " + file.name;
      bar.appendChild(pos);
      item.appendChild(bar);
      list.appendChild(item);
    });
  }

  // ---- images: drag to reorder (the arrow buttons are the keyboard way) ------------------------------

  var dragged = null;

  function tileOf(node) {
    return node instanceof Element ? node.closest(".image-grid[data-reorder-url] .image-tile[draggable='true']") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var tile = tileOf(event.target);
    if (!tile) return;
    dragged = tile;
    tile.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", tile.getAttribute("data-image-id") || "");
  });

  document.addEventListener("dragover", function (event) {
    var tile = tileOf(event.target);
    if (!dragged || !tile || tile === dragged || tile.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".is-drop-target").forEach(function (el) { el.classList.remove("is-drop-target"); });
    tile.classList.add("is-drop-target");
  });

  document.addEventListener("drop", function (event) {
    var tile = tileOf(event.target);
    if (!dragged || !tile || tile === dragged || tile.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var list = tile.parentNode;
    var tiles = Array.prototype.slice.call(list.children);
    var after = tiles.indexOf(dragged) < tiles.indexOf(tile);
    list.insertBefore(dragged, after ? tile.nextSibling : tile);
    saveOrder(list);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    document.querySelectorAll(".is-drop-target").forEach(function (el) { el.classList.remove("is-drop-target"); });
    dragged = null;
  });

  function refreshImages(list) {
    var url = list.getAttribute("data-refresh-url");
    if (url && window.htmx) window.htmx.ajax("GET", url, { target: "#images-panel", swap: "outerHTML" });
  }

  function saveOrder(list) {
    var ids = Array.prototype.map.call(list.querySelectorAll("[data-image-id]"), function (el) {
      return parseInt(el.getAttribute("data-image-id"), 10);
    });
    fetch(list.getAttribute("data-reorder-url"), {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ image_ids: ids })
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) {
          throw new Error(body && body.error ? body.error.message : "HTTP " + response.status);
        }, function () { throw new Error("HTTP " + response.status); });
      }
      showToast("Picture order saved.", "success");
      refreshImages(list);
      return null;
    }).catch(function (error) {
      showToast("Picture order not saved: " + error.message, "error");
      refreshImages(list);
    });
  }

  document.addEventListener("DOMContentLoaded", updateBulkBar);
  document.addEventListener("htmx:afterSwap", updateBulkBar);
})();
