// LAB — the token design's own page script: it keeps the lab's signed value
// in localStorage (as many single-page apps keep a JWT) and sends it as
// Authorization: Bearer. It is the site's legitimate script; the point of
// the lab is that any other script of the origin can read the same storage.
(function () {
  "use strict";
  var KEY = "lab_client_side_token";
  var panel = document.getElementById("token-panel");
  if (!panel) { return; }
  var held = document.getElementById("token-held");
  var answer = document.getElementById("token-answer");
  var store = window.localStorage;
  var issued = panel.getAttribute("data-issued");
  if (issued) { store.setItem(KEY, issued); }
  var token = store.getItem(KEY) || "";
  held.textContent = token === "" ? "localStorage holds no token: log in below." :
    "localStorage." + KEY + " = " + token.slice(0, 16) + "… (" + token.length + " characters)";
  held.setAttribute("data-held", token === "" ? "0" : String(token.length));
  var show = function (r) {
    return r.json().then(function (res) { answer.textContent = "HTTP " + r.status + "\n" + JSON.stringify(res, null, 2); return res; });
  };
  if (token !== "") {
    fetch("/lab/client-side/site/account?mode=token", {
      headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
      credentials: "omit"
    }).then(show).then(function (res) {
      answer.setAttribute("data-user", res.user || "");
    }).catch(function (err) { answer.textContent = "The request failed: " + err.message; });
  }
  var send = function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var headers = { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" };
      var t = store.getItem(KEY);
      if (t) { headers.Authorization = "Bearer " + t; }
      fetch(form.getAttribute("action"), {
        method: "POST", headers: headers, credentials: "omit",
        body: new URLSearchParams(new FormData(form)).toString()
      }).then(function (r) {
        return r.json().then(function (res) {
          if (!r.ok) { answer.textContent = "HTTP " + r.status + "\n" + (res.error || JSON.stringify(res)); return; }
          if (res.token) { store.setItem(KEY, res.token); }
          window.location.reload();
        });
      }).catch(function (err) { answer.textContent = "The request failed: " + err.message; });
    });
  };
  ["cs-login", "cs-add"].forEach(function (id) {
    var f = document.getElementById(id);
    if (f) { send(f); }
  });
  document.getElementById("token-forget").addEventListener("click", function () {
    store.removeItem(KEY);
    window.location.reload();
  });
})();
