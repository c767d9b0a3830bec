// dom.js - a tiny element builder. Text always goes in as text nodes (never
// as HTML), so nothing a server or a person typed can run as markup.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// Replaces the children of EL.
export function put(el, ...kids) {
  el.replaceChildren();
  for (const kid of kids.flat(Infinity))
    if (kid !== undefined && kid !== null && kid !== false)
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

// A labelled form field: the label's for= names the control's id.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || "f" + ++fieldSeq;
  control.id = id;
  const kids = [h("label", { for: id }, label), control];
  if (hint) {
    const hid = id + "-hint";
    control.setAttribute("aria-describedby", hid);
    kids.push(h("p", { class: "hint", id: hid }, hint));
  }
  return h("div", { class: "field" }, kids);
}
