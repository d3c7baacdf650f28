// Starts Swagger UI on the page /docs serves; the spec URL comes from the page itself.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var order = (root.getAttribute("data-tag-order") || "").split(",");
  function rank(tag) {
    var i = order.indexOf(tag);
    return i < 0 ? order.length : i;
  }
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never ask an online validator: the docs work offline
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    tagsSorter: function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0); },
  });
})();
