// The sales board: drag a card to another column (native HTML5 drag and drop), or use the
// card's "Move to" select and button. Both post to the board's move endpoint, which runs the
// same service as the edit form and answers the two changed columns as HTML. A lost stage
// asks for the lost reason in a small dialog first; a conflict (HTTP 412) says so and
// reloads the board. Without this script the select's form posts to the move page instead.
(function () {
  "use strict";

  var board = null;
  var dragged = null;

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function lostStages() {
    return (board.getAttribute("data-lost-stages") || "").split(/\s+/).filter(Boolean);
  }

  function status(message, kind) {
    var box = document.getElementById("sales-board-status");
    if (!box) { return; }
    box.textContent = message || "";
    box.className = "alert alert-" + (kind || "warning") + (message ? "" : " d-none");
  }

  function processed(element) {
    if (window.htmx && typeof window.htmx.process === "function") { window.htmx.process(element); }
    return element;
  }

  function replaceColumns(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var columns = holder.content.querySelectorAll("section.sales-column");
    Array.prototype.forEach.call(columns, function (column) {
      var old = document.getElementById(column.id);
      if (old) {
        old.replaceWith(column);
      } else {
        board.appendChild(column);
      }
      processed(column);
    });
  }

  function reloadBoard() {
    var url = board.getAttribute("data-board-url");
    return fetch(url, {
      headers: { "HX-Request": "true", "HX-Target": "sales-board" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      board.innerHTML = html;
      processed(board);
    }).catch(function () {
      window.location.reload();
    });
  }

  function firstMessage(payload) {
    if (!payload) { return ""; }
    var fields = payload.fields || {};
    for (var key in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, key) && fields[key].length) {
        return fields[key][0];
      }
    }
    return payload.message || "";
  }

  function askLostReason(message) {
    var dialog = document.getElementById("sales-lost-dialog");
    var form = document.getElementById("sales-lost-form");
    var error = document.getElementById("sales-lost-error");
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") { resolve(null); return; }
      error.textContent = message || "";
      form.reset();
      function done(value) {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) { dialog.close(); }
        resolve(value);
      }
      function onSubmit(event) {
        event.preventDefault();
        var reason = form.elements.lost_reason.value;
        if (!reason) { form.elements.lost_reason.focus(); return; }
        done({
          lost_reason: reason,
          lost_to: form.elements.lost_to.value,
          lost_note: form.elements.lost_note.value
        });
      }
      function onCancel(event) { if (event) { event.preventDefault(); } done(null); }
      var cancel = document.getElementById("sales-lost-cancel");
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
      form.elements.lost_reason.focus();
    });
  }

  function move(card, stage, extra) {
    var id = card.getAttribute("data-id");
    var version = card.getAttribute("data-version");
    if (!extra && lostStages().indexOf(String(stage)) !== -1) {
      return askLostReason("").then(function (answer) {
        if (answer) { return move(card, stage, answer); }
        return null;
      });
    }
    var body = new FormData();
    body.append("opportunity", id);
    body.append("stage", stage);
    body.append("version", version);
    if (extra) {
      Object.keys(extra).forEach(function (key) { body.append(key, extra[key] || ""); });
    }
    board.classList.add("sales-busy");
    board.setAttribute("aria-busy", "true");
    return fetch(board.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) {
        return response.text().then(function (html) {
          replaceColumns(html);
          status("", "");
          var moved = document.getElementById("card-" + id);
          if (moved) {
            var link = moved.querySelector("a");
            if (link && card.contains(document.activeElement)) { link.focus(); }
          }
        });
      }
      return response.json().catch(function () { return {}; }).then(function (payload) {
        if (response.status === 412) {
          status(payload.message || board.getAttribute("data-error-message"), "warning");
          return reloadBoard();
        }
        if (response.status === 422 && payload.fields && payload.fields.lost_reason) {
          return askLostReason(firstMessage(payload)).then(function (answer) {
            if (answer) { return move(card, stage, answer); }
            return null;
          });
        }
        status(firstMessage(payload) || board.getAttribute("data-error-message"), "danger");
        return null;
      });
    }).catch(function () {
      status(board.getAttribute("data-error-message"), "danger");
    }).then(function () {
      board.classList.remove("sales-busy");
      board.removeAttribute("aria-busy");
    });
  }

  function columnOf(element) {
    return element && element.closest ? element.closest("section.sales-column") : null;
  }

  function clearTargets() {
    Array.prototype.forEach.call(board.querySelectorAll(".sales-drop-target"), function (el) {
      el.classList.remove("sales-drop-target");
    });
  }

  function init() {
    board = document.getElementById("sales-board");
    if (!board) { return; }

    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest ? event.target.closest(".sales-card[draggable=true]") : null;
      if (!card) { return; }
      dragged = card;
      card.classList.add("sales-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    });

    board.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("sales-dragging"); }
      dragged = null;
      clearTargets();
    });

    board.addEventListener("dragover", function (event) {
      var column = columnOf(event.target);
      if (!dragged || !column) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (!column.classList.contains("sales-drop-target")) {
        clearTargets();
        column.classList.add("sales-drop-target");
      }
    });

    board.addEventListener("drop", function (event) {
      var column = columnOf(event.target);
      if (!dragged || !column) { return; }
      event.preventDefault();
      clearTargets();
      var card = dragged;
      var source = columnOf(card);
      dragged = null;
      card.classList.remove("sales-dragging");
      if (source && source.getAttribute("data-stage") === column.getAttribute("data-stage")) {
        return;
      }
      move(card, column.getAttribute("data-stage"), null);
    });

    // The keyboard and phone way: the card's "Move to" select and its button.
    board.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList || !form.classList.contains("sales-move-form")) { return; }
      event.preventDefault();
      var card = form.closest(".sales-card");
      var stage = form.elements.stage.value;
      if (!card || String(stage) === String(columnOf(card).getAttribute("data-stage"))) { return; }
      move(card, stage, null);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
