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

  // The log is newest first and one line per fold (an instance.changed
  // back and forth of one learner between two instances): a repeat bumps
  // the line's count and moves it to the top instead of adding a line.
  var MAX_EVENTS = 300;
  function foldLine(fold) {
    for (var li = list.firstElementChild; li; li = li.nextElementSibling) {
      if (li.getAttribute("data-fold") === fold) { return li; }
    }
    return null;
  }
  function freshen(li) {
    li.classList.add("fresh");
    setTimeout(function () { li.classList.remove("fresh"); }, 2500);
  }
  function addEvent(ev) {
    if (list.querySelector('li[data-id="' + ev.id + '"]')) { return; }
    var same = ev.fold ? foldLine(ev.fold) : null;
    if (same) {
      var n = Number(same.getAttribute("data-times") || "1") + 1;
      same.setAttribute("data-times", String(n));
      same.setAttribute("data-id", ev.id);
      same.querySelector(".ev-times").textContent = "×" + n;
      same.querySelector("time").textContent = hms(ev.at);
      list.insertBefore(same, list.firstChild);
      freshen(same);
      return;
    }
    var li = el("li", "ev ev-" + ev.group);
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
    if (ev.fold) {
      li.setAttribute("data-fold", ev.fold);
      li.setAttribute("data-times", "1");
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "ev-times", ""));
    }
    applyFilter(li);
    list.insertBefore(li, list.firstChild);
    freshen(li);
    while (list.children.length > MAX_EVENTS) { list.removeChild(list.lastChild); }
  }

  function renderCounts(counts) {
    var box = document.getElementById("ev-counts");
    var frag = document.createDocumentFragment();
    if (!counts.length) { frag.appendChild(el("span", "muted", "no events yet")); }
    counts.forEach(function (k) {
      var s = el("span", "kc ev-" + k.group);
      s.setAttribute("data-kind", k.kind);
      s.appendChild(el("span", "ev-kind", k.kind));
      s.appendChild(document.createTextNode(" "));
      s.appendChild(el("strong", "", String(k.count)));
      frag.appendChild(s);
      frag.appendChild(document.createTextNode(" "));
    });
    box.replaceChildren(frag);
  }

  // The sessions table sorts by the column the instructor picks. Live
  // updates never reorder the rows already shown (a row the instructor is
  // reading stays put): they change in place, new rows slot in where the
  // sort puts them, and "Sort again" (or "keep sorted live") reorders.
  var tbody = document.getElementById("sessions-body");
  var COLS = ["key", "user", "cart", "lesson", "created", "seen", "expires", "instance"];
  var NUMERIC = { cart: true, lesson: true, created: true, seen: true, expires: true };
  var sortCol = "seen", sortDir = -1; // the server's own order: last seen first
  var saved = /^(\w+):(asc|desc)$/.exec(pref("sl-sort", ""));
  if (saved && COLS.indexOf(saved[1]) >= 0) { sortCol = saved[1]; sortDir = saved[2] === "asc" ? 1 : -1; }
  var sortLive = document.getElementById("sort-live");
  var sortAgain = document.getElementById("sort-again");
  sortLive.checked = pref("sl-sort-live", "0") === "1";

  function cellValue(tr, col) {
    var td = tr.children[COLS.indexOf(col)];
    return td ? td.getAttribute("data-v") || "" : "";
  }
  function compareRows(a, b) {
    var x = cellValue(a, sortCol), y = cellValue(b, sortCol), r;
    if (NUMERIC[sortCol]) { r = Number(x) - Number(y); } else { r = x < y ? -1 : x > y ? 1 : 0; }
    if (r === 0) {
      x = a.getAttribute("data-key"); y = b.getAttribute("data-key");
      r = x < y ? -1 : x > y ? 1 : 0;
    }
    return r * sortDir;
  }
  function rowsShown() { return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-key]")); }
  function inOrder(rows) {
    for (var i = 1; i < rows.length; i++) { if (compareRows(rows[i - 1], rows[i]) > 0) { return false; } }
    return true;
  }
  function markSort() {
    document.querySelectorAll(".ins-table th[data-col]").forEach(function (th) {
      if (th.getAttribute("data-col") === sortCol) {
        th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }
  function showStale(rows) { sortAgain.hidden = sortLive.checked || inOrder(rows); }
  function sortNow() {
    var rows = rowsShown();
    rows.sort(compareRows);
    rows.forEach(function (tr) { tbody.appendChild(tr); });
    markSort();
    showStale(rows);
  }
  document.querySelectorAll(".ins-table .sort").forEach(function (b) {
    b.addEventListener("click", function () {
      var col = b.getAttribute("data-col");
      if (col === sortCol) {
        sortDir = -sortDir;
      } else {
        sortCol = col;
        sortDir = NUMERIC[col] ? -1 : 1; // numbers and times: biggest, latest first
      }
      setPref("sl-sort", sortCol + ":" + (sortDir > 0 ? "asc" : "desc"));
      sortNow();
    });
  });
  sortAgain.addEventListener("click", sortNow);
  sortLive.addEventListener("change", function () {
    setPref("sl-sort-live", sortLive.checked ? "1" : "0");
    sortNow();
  });
  sortNow();

  function cell(text, v, cls) {
    var td = el("td", cls || "", text);
    td.setAttribute("data-v", v);
    return td;
  }
  function sessionRow(s, known) {
    var tr = el("tr", s.authenticated ? "auth" : "");
    tr.setAttribute("data-key", s.key);
    if (!known[s.key] && !known[s.rotated_from || ""]) { tr.classList.add("fresh"); }
    var key = el("code");
    if (s.rotated_from) {
      key.appendChild(el("span", "old-key", s.rotated_from));
      key.appendChild(document.createTextNode(" → "));
    }
    key.appendChild(document.createTextNode(s.key));
    var td = cell(undefined, s.key); td.appendChild(key); tr.appendChild(td);
    var user = cell(undefined, s.authenticated ? s.user : "", "user");
    user.appendChild(s.authenticated ? el("strong", "", s.user) : el("span", "muted", "anonymous"));
    tr.appendChild(user);
    tr.appendChild(cell(String(s.cart), String(s.cart), "num"));
    tr.appendChild(cell(s.lesson, String(s.lesson_order)));
    tr.appendChild(cell(hms(s.created_at), String(Date.parse(s.created_at))));
    tr.appendChild(cell(hms(s.last_seen_at), String(Date.parse(s.last_seen_at))));
    tr.appendChild(cell(hms(s.expires_at), String(Date.parse(s.expires_at))));
    tr.appendChild(cell(s.instance, s.instance));
    return tr;
  }
  function renderSessions(st) {
    var before = rowsShown().map(function (tr) { return tr.getAttribute("data-key"); });
    var known = {};
    before.forEach(function (k) { known[k] = true; });
    var rows = {}, renamed = {}, order = [], placed = {};
    st.sessions.forEach(function (s) {
      rows[s.key] = sessionRow(s, known);
      if (s.rotated_from) { renamed[s.rotated_from] = s.key; }
    });
    if (sortLive.checked) {
      st.sessions.forEach(function (s) { order.push(rows[s.key]); });
      order.sort(compareRows);
    } else {
      // Rows already shown keep their places; a session whose key rotated
      // at login takes the place of its old key.
      before.forEach(function (k) {
        var now = rows[k] ? k : renamed[k];
        if (now && rows[now] && !placed[now]) { order.push(rows[now]); placed[now] = true; }
      });
      st.sessions.forEach(function (s) {
        if (placed[s.key]) { return; }
        var tr = rows[s.key], i = 0;
        while (i < order.length && compareRows(order[i], tr) <= 0) { i++; }
        order.splice(i, 0, tr);
      });
    }
    var frag = document.createDocumentFragment();
    if (!order.length) {
      var tr0 = el("tr", "empty");
      var td0 = el("td", "", "No live sessions. They appear here as students open the site.");
      td0.colSpan = COLS.length;
      tr0.appendChild(td0);
      frag.appendChild(tr0);
    }
    order.forEach(function (tr) { frag.appendChild(tr); });
    tbody.replaceChildren(frag);
    showStale(order);
    setTimeout(function () { tbody.querySelectorAll("tr.fresh").forEach(function (tr) { tr.classList.remove("fresh"); }); }, 2500);
  }

  function setText(id, v) { var e = document.getElementById(id); if (e) { e.textContent = v; } }
  function renderState(st) {
    renderSessions(st);
    setText("stat-sessions", st.live);
    setText("stat-auth", st.authenticated);
    setText("stat-learners", st.learners);
    setText("sess-shown", st.sessions.length < st.live ? ": the " + st.sessions.length + " seen last of " + st.live : "");
    setText("stat-instances", st.instances.length ? st.instances.join(", ") : "—");
    setText("stat-timeouts", "idle " + st.idle_timeout + " · absolute " + st.absolute_timeout);
    setText("prog-total", st.learners);
    renderCounts(st.event_counts || []);
    st.progress.forEach(function (l) {
      var f = document.querySelector('.finished[data-lesson="' + l.slug + '"]');
      if (f) { f.textContent = l.finished; }
      l.steps.forEach(function (s) {
        var bar = document.querySelector('rect.bar[data-key="' + s.key + '"]');
        if (bar) { bar.setAttribute("y", 100 - s.pct); bar.setAttribute("height", s.pct); }
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
