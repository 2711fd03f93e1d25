/* Import wizard: a filter box above each field picker narrows its options as one types
   (accents and case ignored), so a long list of fields stays usable without a library. */
(function () {
  "use strict";

  function fold(text) {
    return (text || "")
      .toLocaleLowerCase()
      .replace(/ı/g, "i")
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "");
  }

  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-field-filter"));
    if (!select) {
      return;
    }
    var needle = fold(input.value.trim());
    var shown = 0;
    Array.prototype.forEach.call(select.options, function (option) {
      var keep = option.selected || option.value === "" ||
        needle === "" || fold(option.text + " " + option.value).indexOf(needle) !== -1;
      option.hidden = !keep;
      if (keep && option.value !== "") {
        shown += 1;
      }
    });
    input.setAttribute("aria-description", String(shown));
  }

  function bind(root) {
    Array.prototype.forEach.call(
      root.querySelectorAll("input[data-field-filter]"),
      function (input) {
        if (input.dataset.bound) {
          return;
        }
        input.dataset.bound = "1";
        input.addEventListener("input", function () { filterSelect(input); });
        input.addEventListener("keydown", function (event) {
          if (event.key === "Enter") {
            event.preventDefault();
            var select = document.getElementById(input.getAttribute("data-field-filter"));
            if (!select) {
              return;
            }
            var first = Array.prototype.find.call(select.options, function (option) {
              return !option.hidden && option.value !== "";
            });
            if (first) {
              select.value = first.value;
              select.dispatchEvent(new Event("change", { bubbles: true }));
            }
          }
        });
      }
    );
    Array.prototype.forEach.call(
      root.querySelectorAll("form[data-confirm]"),
      function (form) {
        if (form.dataset.bound) {
          return;
        }
        form.dataset.bound = "1";
        form.addEventListener("submit", function (event) {
          if (!window.confirm(form.getAttribute("data-confirm"))) {
            event.preventDefault();
          }
        });
      }
    );
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
})();
