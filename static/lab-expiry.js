// The expiry lab's countdown: after step 1, the second step waits for the
// idle timeout to pass. The server checks the time itself; this only helps.
(function () {
  "use strict";
  var btn = document.querySelector("button[data-wait]");
  var box = document.getElementById("lab-countdown");
  if (!btn || !box) { return; }
  var done = document.querySelectorAll(".lab-steps li.is-done").length;
  if (done !== 1) { return; }
  var left = Math.ceil(parseFloat(btn.getAttribute("data-wait")));
  box.hidden = false;
  function tick() {
    if (left <= 0) {
      box.textContent = "The idle timeout has passed: run step 2 now.";
      return;
    }
    box.textContent = "Waiting for the idle timeout: " + left + " s left. (Step 2 before then is refused by the server.)";
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
