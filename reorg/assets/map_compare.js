// comparison.html: puts each run's own map.html back together and shows it in its iframe.
// The maps share their pieces (geometry, Leaflet, scripts): the element #reorg-maps holds them
// once, gzip-compressed in base64 (reorg/compare_maps.py writes it): {"pieces": [text, ...],
// "maps": [[text or piece index, ...], ...]}; an iframe's data-reorg-map is its map's index.
(function () {
  "use strict";
  var holder = document.getElementById("reorg-maps");
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe[data-reorg-map]"));
  if (!holder || !frames.length) return;

  function failed(message) {
    frames.forEach(function (frame) {
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = message;
      frame.replaceWith(p);
    });
  }

  if (typeof DecompressionStream === "undefined") {
    failed(holder.getAttribute("data-old-browser"));
    return;
  }
  var binary = atob(holder.textContent.trim());
  var bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  new Response(stream)
    .text()
    .then(function (text) {
      var data = JSON.parse(text);
      frames.forEach(function (frame) {
        var parts = data.maps[Number(frame.getAttribute("data-reorg-map"))];
        frame.srcdoc = parts
          .map(function (p) {
            return typeof p === "number" ? data.pieces[p] : p;
          })
          .join("");
      });
      document.body.setAttribute("data-reorg-maps", String(frames.length));
    })
    .catch(function (err) {
      failed(holder.getAttribute("data-old-browser") + " (" + err + ")");
    });
})();
