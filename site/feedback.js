/* kbctl site feedback (CONTRACT 7): sends usage events with navigator.sendBeacon to the
   channel's feedback endpoint. Pages carry this script only when the channel has one; the
   endpoint, channel and entry come from the script tag's data attributes. No cookies, no
   identifiers: an event is {time, channel, event, entry} or {time, channel, event, query, results}. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) return;
  var endpoint = script.getAttribute("data-endpoint");
  var channel = script.getAttribute("data-channel");
  var entry = script.getAttribute("data-entry");
  var QUIET_MS = 1000; /* a search counts once the reader stops typing for this long */
  if (!endpoint || !channel || !navigator.sendBeacon) return;

  function now() {
    return new Date().toISOString().replace(/\.[0-9]{3}Z$/, "Z");
  }

  /* A string body goes as text/plain: a CORS-safelisted type, so no preflight; it holds JSON. */
  function send(event, fields) {
    var data = {time: now(), channel: channel, event: event};
    Object.keys(fields).forEach(function (key) { data[key] = fields[key]; });
    try { navigator.sendBeacon(endpoint, JSON.stringify(data)); } catch (e) { /* never break the page */ }
  }

  function initVotes() {
    var box = document.getElementById("feedback");
    if (!box || !entry) return;
    var buttons = box.querySelectorAll("button[data-vote]");
    var thanks = document.getElementById("feedback-thanks");
    var voted = false;
    box.hidden = false;
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        if (voted) return;
        voted = true;
        Array.prototype.forEach.call(buttons, function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
          other.setAttribute("aria-disabled", "true");
        });
        thanks.textContent = box.getAttribute("data-thanks") || "";
        send(button.getAttribute("data-vote"), {entry: entry});
      });
    });
  }

  /* search.js announces each search it runs; one event per distinct query, sent on submit or
     once the query has stood still, never per keystroke. */
  function initSearch() {
    var sent = {}, timer = null, pending = null;
    function flush() {
      clearTimeout(timer);
      if (!pending || sent[pending.query]) return;
      sent[pending.query] = 1;
      send("search", {query: pending.query, results: pending.results});
      pending = null;
    }
    document.addEventListener("kbctl:search", function (ev) {
      var detail = ev.detail || {};
      if (!detail.query) return;
      pending = {query: detail.query, results: detail.results};
      clearTimeout(timer);
      if (detail.submitted) flush(); else timer = setTimeout(flush, QUIET_MS);
    });
    window.addEventListener("pagehide", flush);
  }

  if (entry) send("view", {entry: entry});
  initSearch();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initVotes);
  else initVotes();
})();
