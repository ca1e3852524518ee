// The interactive API docs: reads wasl's OpenAPI document and offers every operation to try.
"use strict";
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("wasl-docs-token") || "";
tokenInput.addEventListener("input", () => sessionStorage.setItem("wasl-docs-token", tokenInput.value));

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function resolve(doc, schema) {
  if (schema && schema.$ref) return resolve(doc, doc.components.schemas[schema.$ref.split("/").pop()]);
  return schema || {};
}

function example(doc, schema, depth = 0) {
  schema = resolve(doc, schema);
  if (depth > 4) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.oneOf) return example(doc, schema.oneOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find(t => t !== "null") : schema.type;
  if (type === "object" || schema.properties) {
    const out = {};
    for (const [k, v] of Object.entries(schema.properties || {})) out[k] = example(doc, v, depth + 1);
    return out;
  }
  if (type === "array") return [];
  if (type === "integer" || type === "number") return 1;
  if (type === "boolean") return true;
  return "";
}

function operation(doc, path, method, op) {
  const params = (op.parameters || []);
  const body = el("div", { class: "body" });
  if (op.description) body.append(el("p", {}, op.description));
  const inputs = {};
  for (const p of params) {
    body.append(el("label", {}, `${p.name} (${p.in})`));
    inputs[p.name] = el("input", { class: "p", "data-in": p.in });
    body.append(inputs[p.name]);
  }
  let textarea = null;
  const schema = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  if (schema) {
    body.append(el("label", {}, "JSON body"));
    textarea = el("textarea", {});
    textarea.value = JSON.stringify(example(doc, schema.schema), null, 2);
    body.append(textarea);
  }
  const codes = Object.keys(op.responses || {}).join(", ");
  body.append(el("p", { class: "resp" }, `Responses: ${codes}`));
  const out = el("pre", {}, "");
  out.hidden = true;
  const send = el("button", { type: "button" }, "Send");
  send.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const p of params) {
      const v = inputs[p.name].value;
      if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(v));
      else if (v) query.set(p.name, v);
    }
    if ([...query].length) url += "?" + query;
    const headers = { "Accept-Language": document.documentElement.lang };
    if (tokenInput.value.trim()) headers.Authorization = "Bearer " + tokenInput.value.trim();
    const init = { method: method.toUpperCase(), headers };
    if (textarea) { headers["Content-Type"] = "application/json"; init.body = textarea.value; }
    out.hidden = false;
    out.textContent = "…";
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) {}
      out.textContent = `HTTP ${res.status}\n\n${shown}`;
    } catch (e) {
      out.textContent = String(e);
    }
  });
  body.append(send, out);
  return el("details", {},
    el("summary", {}, el("span", { class: `m ${method}` }, method.toUpperCase()),
      el("span", { class: "path" }, path), el("span", { class: "sum" }, op.summary || "")),
    body);
}

fetch("/api/v1/openapi.json").then(r => r.json()).then(doc => {
  document.getElementById("desc").textContent = doc.info.description || "";
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      (byTag[tag] = byTag[tag] || []).push([path, method, item[method]]);
    }
  }
  const main = document.getElementById("ops");
  for (const [tag, ops] of Object.entries(byTag)) {
    main.append(el("h2", {}, tag));
    for (const [path, method, op] of ops) main.append(operation(doc, path, method, op));
  }
}).catch(e => { document.getElementById("desc").textContent = "Cannot load the OpenAPI document: " + e; });
