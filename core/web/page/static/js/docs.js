// The API explorer: Swagger UI (vendored) over /api/v1/openapi.json. The document and every
// "Try it out" request need the key: it comes from the page's sign-in (session storage)
// and is added to each request by requestInterceptor.
(function start() {
  const key = sessionStorage.getItem("sublarr.apiKey") || "";
  const note = document.getElementById("docs-message");
  if (!key) {
    note.append("Sign in on ");
    const link = document.createElement("a");
    link.href = "/";
    link.textContent = "the sublarr page";
    note.append(link, " first: the API explorer uses the same API key.");
    return;
  }
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger",
    deepLinking: true,
    tryItOutEnabled: false,
    requestInterceptor: (request) => {
      request.headers["X-Api-Key"] = key;
      return request;
    },
    onComplete: () => {
      note.textContent = "";
    },
  });
})();
