// Charts of the analytics pages as PNG: the inline SVG is drawn onto a canvas in the browser
// and downloaded. The page's CSS does not travel with a serialised SVG, so the computed
// colours and fonts of every element are written onto a copy first. No library needed.
(function () {
  "use strict";
  var PROPERTIES = [
    "fill", "stroke", "stroke-width", "stroke-dasharray", "opacity",
    "font-family", "font-size", "font-weight", "text-anchor", "direction"
  ];

  function inlineStyles(source, copy) {
    var from = source.querySelectorAll("*");
    var to = copy.querySelectorAll("*");
    for (var i = 0; i < from.length && i < to.length; i++) {
      var computed = window.getComputedStyle(from[i]);
      var style = "";
      for (var k = 0; k < PROPERTIES.length; k++) {
        var value = computed.getPropertyValue(PROPERTIES[k]);
        if (value) { style += PROPERTIES[k] + ":" + value + ";"; }
      }
      to[i].setAttribute("style", style);
    }
  }

  function background() {
    var colour = window.getComputedStyle(document.body).backgroundColor;
    return colour && colour !== "rgba(0, 0, 0, 0)" ? colour : "#ffffff";
  }

  function save(blob, filename) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    window.setTimeout(function () {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 1000);
  }

  function toPng(svg, filename, done) {
    var box = svg.viewBox && svg.viewBox.baseVal;
    var width = box && box.width ? box.width : svg.getBoundingClientRect().width;
    var height = box && box.height ? box.height : svg.getBoundingClientRect().height;
    var copy = svg.cloneNode(true);
    inlineStyles(svg, copy);
    copy.setAttribute("width", String(width));
    copy.setAttribute("height", String(height));
    copy.setAttribute("style", "direction:" + window.getComputedStyle(svg).direction);
    var xml = new XMLSerializer().serializeToString(copy);
    var image = new Image();
    var scale = 2;
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = background();
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (blob) { save(blob, filename); }
        done(Boolean(blob));
      }, "image/png");
    };
    image.onerror = function () { done(false); };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-chart-png]") : null;
    if (!button) { return; }
    var svg = document.getElementById(button.getAttribute("data-chart-png"));
    if (!svg) { return; }
    button.disabled = true;
    toPng(svg, button.getAttribute("data-filename") || "chart.png", function (ok) {
      button.disabled = false;
      button.setAttribute("data-chart-png-done", ok ? "yes" : "no");
    });
  });
})();
