// Starts the GOV.UK Design System's components (error summary focus, details, buttons that
// guard against double submission...). Loaded as a module, so browsers too old for it get the
// pages without script, which work the same.
import { initAll } from "./build/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
