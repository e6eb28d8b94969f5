// The instructor's dashboard: keeps the page live from /instructor/stream
// (Server-Sent Events). Everything shown is set with textContent, never HTML.
(function () {
  "use strict";
  var body = document.body;
  var live = document.getElementById("live");
  var store = window.localStorage;

  function pref(name, def) { try { return store.getItem(name) || def; } catch (e) { return def; } }
  function setPref(name, v) { try { store.setItem(name, v); } catch (e) {} }

  // Projector mode and theme, remembered in this browser.
  var proj = document.getElementById("toggle-projector");
  var theme = document.getElementById("toggle-theme");
  function applyProjector(on) {
    body.classList.toggle("projector", on);
    proj.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function applyTheme(t) {
    document.documentElement.setAttribute("data-theme", t);
    theme.setAttribute("aria-pressed", t === "dark" ? "true" : "false");
    theme.textContent = t === "dark" ? "Light" : "Dark";
  }
  applyProjector(body.classList.contains("projector") || pref("sl-projector", "0") === "1");
  applyTheme(pref("sl-theme", window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  proj.addEventListener("click", function () {
    var on = !body.classList.contains("projector");
    applyProjector(on);
    setPref("sl-projector", on ? "1" : "0");
  });
  theme.addEventListener("click", function () {
    var t = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
    applyTheme(t);
    setPref("sl-theme", t);
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // Event filter.
  var filter = "all";
  var list = document.getElementById("events");
  function applyFilter(li) { li.hidden = filter !== "all" && li.getAttribute("data-group") !== filter; }
  document.querySelectorAll(".ev-filter").forEach(function (b) {
    b.addEventListener("click", function () {
      filter = b.getAttribute("data-filter");
      document.querySelectorAll(".ev-filter").forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
      list.querySelectorAll("li").forEach(applyFilter);
    });
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function hms(iso) {
    var d = new Date(iso);
    if (isNaN(d)) { return ""; }
    return d.toISOString().substring(11, 19);
  }

  var MAX_EVENTS = 300;
  function addEvent(ev) {
    if (list.querySelector('li[data-id="' + ev.id + '"]')) { return; }
    var li = el("li", "ev ev-" + ev.group + " fresh");
    li.setAttribute("data-group", ev.group);
    li.setAttribute("data-id", ev.id);
    li.appendChild(el("time", "", hms(ev.at)));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("strong", "ev-kind", ev.kind));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("code", "ev-key", ev.session));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "ev-sum", ev.summary));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "ev-inst", ev.instance));
    applyFilter(li);
    list.insertBefore(li, list.firstChild);
    setTimeout(function () { li.classList.remove("fresh"); }, 2500);
    while (list.children.length > MAX_EVENTS) { list.removeChild(list.lastChild); }
  }

  var tbody = document.getElementById("sessions-body");
  function renderSessions(st) {
    var known = {};
    tbody.querySelectorAll("tr[data-key]").forEach(function (tr) { known[tr.getAttribute("data-key")] = true; });
    var frag = document.createDocumentFragment();
    if (!st.sessions.length) {
      var tr0 = el("tr", "empty");
      var td0 = el("td", "", "No live sessions. They appear here as students open the site.");
      td0.colSpan = 8;
      tr0.appendChild(td0);
      frag.appendChild(tr0);
    }
    st.sessions.forEach(function (s) {
      var tr = el("tr", s.authenticated ? "auth" : "");
      tr.setAttribute("data-key", s.key);
      if (!known[s.key]) { tr.classList.add("fresh"); }
      var key = el("code");
      if (s.rotated_from) {
        key.appendChild(el("span", "old-key", s.rotated_from));
        key.appendChild(document.createTextNode(" → "));
      }
      key.appendChild(document.createTextNode(s.key));
      var td = el("td"); td.appendChild(key); tr.appendChild(td);
      var user = el("td");
      user.appendChild(s.authenticated ? el("strong", "", s.user) : el("span", "muted", "anonymous"));
      tr.appendChild(user);
      tr.appendChild(el("td", "", String(s.cart)));
      tr.appendChild(el("td", "", s.lesson));
      tr.appendChild(el("td", "", hms(s.created_at)));
      tr.appendChild(el("td", "", hms(s.last_seen_at)));
      tr.appendChild(el("td", "", hms(s.expires_at)));
      tr.appendChild(el("td", "", s.instance));
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    setTimeout(function () { tbody.querySelectorAll("tr.fresh").forEach(function (tr) { tr.classList.remove("fresh"); }); }, 2500);
  }

  function setText(id, v) { var e = document.getElementById(id); if (e) { e.textContent = v; } }
  function renderState(st) {
    renderSessions(st);
    setText("stat-sessions", st.sessions.length);
    setText("stat-auth", st.authenticated);
    setText("stat-learners", st.learners);
    setText("stat-instances", st.instances.length ? st.instances.join(", ") : "—");
    setText("stat-timeouts", "idle " + st.idle_timeout + " · absolute " + st.absolute_timeout);
    setText("prog-total", st.learners);
    st.progress.forEach(function (l) {
      var f = document.querySelector('.finished[data-lesson="' + l.slug + '"]');
      if (f) { f.textContent = l.finished; }
      l.steps.forEach(function (s) {
        var bar = document.querySelector('rect.bar[data-key="' + s.key + '"]');
        if (bar) { bar.setAttribute("width", s.pct); }
        var n = document.querySelector('.bar-count[data-key="' + s.key + '"]');
        if (n) { n.textContent = s.done; }
      });
    });
    body.setAttribute("data-updated", String(Date.now()));
  }

  if (!window.EventSource) { live.textContent = "live updates need a newer browser: reload to refresh"; return; }
  var es = new EventSource("/instructor/stream?after=" + encodeURIComponent(body.getAttribute("data-last-id") || "0"));
  es.onopen = function () { live.textContent = "● live"; live.className = "ins-live on"; };
  es.onerror = function () { live.textContent = "reconnecting…"; live.className = "ins-live off"; };
  es.addEventListener("ev", function (m) { try { addEvent(JSON.parse(m.data)); } catch (e) {} });
  es.addEventListener("state", function (m) { try { renderState(JSON.parse(m.data)); } catch (e) {} });
  es.addEventListener("bye", function () { live.textContent = "server stopping…"; });
})();
