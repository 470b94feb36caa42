// Starts the GOV.UK Design System's components (error summary focus, details, buttons that
// guard against double submission...). Loaded as a module, so browsers too old for it get the
// pages without script, which work the same.
import { initAll } from "./build/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// htmx requests that change something carry the CSRF token, as every form does in its hidden
// field: the server refuses an unsafe request without it (api/csrf.py).
const CSRF_COOKIE = "casework_csrf";

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
  return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
}

document.body.addEventListener("htmx:configRequest", (event) => {
  if (!["get", "head", "options"].includes(event.detail.verb)) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  }
});
