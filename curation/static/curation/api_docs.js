/*
 * The API schema viewer: Swagger UI (vendored from npm swagger-ui-dist, see vendor/README) over /api/schema/.
 * "Try it out" sends the session cookie; unsafe methods carry the page's CSRF token, as DRF's session
 * authentication requires.
 */
(function () {
  "use strict";

  var node = document.getElementById("swagger-ui");
  if (!node || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: node.dataset.schemaUrl,
    domNode: node,
    deepLinking: true,
    withCredentials: true,
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = node.dataset.csrfToken;
      return request;
    },
  });
})();
