// Helpers shared by the page scripts (kiosk, review, qc, ecg). Each page
// loads this file before its own script; what it declares are plain
// globals of the page.
"use strict";

// TOKEN_KEY is where the staff pages keep the bearer token in web storage.
const TOKEN_KEY = "yizhu.token";

const $ = (id) => document.getElementById(id);

// say shows text in the page's #msg status line; kind ("error", "ok" or
// none) becomes its class, which the page's stylesheet colours.
function say(text, kind) {
  const m = $("msg");
  m.textContent = text;
  m.className = kind || "";
}

// authFetch sends a request with the bearer token and returns fetch's
// response; body, when given, is sent as JSON, and headers are added to
// the request's own.
function authFetch(token, method, path, body, headers) {
  const h = { Authorization: "Bearer " + token, ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  return fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
}
