// Starts Swagger UI on the page /docs serves; the spec URL comes from the page itself.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never ask an online validator: the docs work offline
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
