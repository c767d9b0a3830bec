// forms.js - errors shown next to the field they concern: the message
// goes under the control (inside its .field), the control gets
// aria-invalid and names the message in aria-describedby.
import { h } from "/js/dom.js";

export function clearErrors(root) {
  for (const p of root.querySelectorAll(".field-error")) p.remove();
  for (const c of root.querySelectorAll("[aria-invalid]")) {
    c.removeAttribute("aria-invalid");
    const d = (c.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.endsWith("-err"));
    if (d.length) c.setAttribute("aria-describedby", d.join(" "));
    else c.removeAttribute("aria-describedby");
  }
}

// Shows TEXT under CONTROL (inside its .field when it has one).
export function fieldError(control, text) {
  const id = (control.id || "c" + Math.random().toString(36).slice(2)) + "-err";
  const p = h("p", { class: "error field-error", id, role: "alert" }, text);
  const holder = control.closest(".option, .field, .check, fieldset") || control.parentElement;
  holder.append(p);
  control.setAttribute("aria-invalid", "true");
  control.setAttribute("aria-describedby", ((control.getAttribute("aria-describedby") || "") + " " + id).trim());
  return p;
}
