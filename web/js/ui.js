// ui.js - what every page uses to tell the person something.
import { h } from "/js/dom.js";
import { t } from "/js/i18n.js";
import { ApiError } from "/js/api.js";

export function say(text) {
  document.getElementById("status").textContent = text;
}

export function errorText(e) {
  if (e instanceof ApiError) {
    if (e.status === 401) return t("error.signin");
    if (e.status === 429) return t("error.tooMany");
    return t("error.server", { detail: e.message });
  }
  return t("error.network");
}

export function errorBox(e) {
  return h("p", { class: "error", role: "alert" }, errorText(e));
}
