// Receipts plugin: the Thread Read Info panel in the page, the refresh control, live updates.
// Everything works without this script: a check mark links to the panel's own page.
// The markup always comes from the server (the same templates as the first render); this
// script only fetches it and swaps it in.
(function () {
  "use strict";
  var toolbar = document.querySelector(".rr-toolbar[data-rr-states]");
  var host = document.querySelector(".rr-panel-host");
  var openerId = null;

  function fetchText(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    });
  }

  function say(text) {
    var status = toolbar && toolbar.querySelector(".rr-refresh-status");
    if (status) { status.textContent = text; }
  }

  function showPanel(html, keepOpen) {
    host.innerHTML = html;
    (keepOpen || []).forEach(function (address) {
      var row = host.querySelector('tr[data-rr-recipient="' + CSS.escape(address) + '"] details');
      if (row) { row.open = true; }
    });
    host.hidden = false;
  }

  // The panel opens right after the reply it belongs to, wherever that is in a long thread.
  function openPanel(link) {
    if (!host) { return false; }
    var url = link.getAttribute("data-rr-fragment");
    openerId = link.getAttribute("data-rr-message") || null;
    var reply = openerId && document.getElementById("message-" + openerId);
    host.setAttribute("aria-busy", "true");
    fetchText(url).then(function (html) {
      if (reply) { reply.after(host); }
      showPanel(html);
      host.setAttribute("data-rr-open", url);
      host.removeAttribute("aria-busy");
      var menu = link.closest("details.menu");
      if (menu) { menu.open = false; }
      var heading = host.querySelector("h2");
      if (heading) { heading.focus(); }
    }).catch(function () { window.location.href = link.href; });
    return true;
  }

  function closePanel() {
    var panel = host.querySelector("[data-rr-panel]");
    var id = openerId || (panel && panel.getAttribute("data-rr-panel"));
    host.hidden = true;
    host.innerHTML = "";
    host.removeAttribute("data-rr-open");
    var back = id && document.querySelector('a.rr-state[data-rr-message="' + id + '"]');
    if (back) { back.focus(); }
  }

  // A state in words, as a screen reader should hear it: "Read by a To recipient, 1 of 4 read".
  function spoken(state) {
    return Array.prototype.map.call(state.querySelectorAll(".rr-label, .rr-count, .rr-warn"), function (part) {
      return part.textContent.replace(/[\u00b7\u26a0]/g, "").trim();
    }).join(", ");
  }

  // Swaps in the fresh check marks; returns a sentence per reply whose state changed.
  function applyStates(html) {
    var box = document.createElement("div");
    var changes = [];
    box.innerHTML = html;
    box.querySelectorAll("template[data-rr-state-for]").forEach(function (template) {
      var id = template.getAttribute("data-rr-state-for");
      var fresh = template.content.querySelector("a.rr-state");
      var reply = document.getElementById("message-" + id);
      var old = reply && reply.querySelector('a.rr-state[data-rr-message="' + id + '"]');
      if (!old) { return; }
      if (spoken(old) !== spoken(fresh)) {
        var sent = reply.querySelector("header time");
        changes.push("Reply of " + (sent ? sent.textContent : id) + ": " + spoken(fresh) + ".");
      }
      old.replaceWith(fresh.cloneNode(true));
    });
    return changes;
  }

  // From the button, or (quietly until there is something to say) from live updates. The
  // check marks and the open panel are fetched together and swapped in together, so that
  // they never disagree, then the live region says what changed.
  function refresh(live) {
    if (!live) { say("Refreshing\u2026"); }
    var open = host && !host.hidden && host.getAttribute("data-rr-open");
    return Promise.all([fetchText(toolbar.getAttribute("data-rr-states")), open ? fetchText(open) : null])
      .then(function (pages) {
        var changes = applyStates(pages[0]);
        if (pages[1] !== null && !host.hidden && host.getAttribute("data-rr-open") === open) {  // still that panel
          var focused = host.contains(document.activeElement);
          var expanded = Array.prototype.map.call(host.querySelectorAll("tr[data-rr-recipient] details[open]"),
            function (d) { return d.closest("tr").getAttribute("data-rr-recipient"); });
          showPanel(pages[1], expanded);
          var heading = focused && host.querySelector("h2");
          if (heading) { heading.focus(); }
        }
        say("Updated at " + new Date().toLocaleTimeString() + ". " + (changes.join(" ") || "No change."));
      })
      .catch(function () { say("Could not refresh; try again."); });
  }

  document.addEventListener("click", function (event) {
    var plain = event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey);
    var link = event.target.closest("a.rr-state[data-rr-fragment], a.rr-track[data-rr-fragment]");
    if (link && plain && openPanel(link)) { event.preventDefault(); return; }
    if (host && event.target.closest("[data-rr-close]")) { closePanel(); return; }
    if (toolbar && event.target.closest("[data-rr-refresh]")) { event.preventDefault(); refresh(false); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && host && !host.hidden && host.contains(document.activeElement)) { closePanel(); }
  });

  // Live updates: ask for the thread's change marker every few seconds while the tab is seen,
  // and at once when it is seen again; refresh when the marker differs from the one the page
  // was drawn with. A failed question waits twice as long each time, up to a minute.
  if (toolbar && toolbar.hasAttribute("data-rr-live")) {
    var markerUrl = toolbar.getAttribute("data-rr-live");
    var known = toolbar.getAttribute("data-rr-live-marker");
    var every = 1000 * (parseFloat(toolbar.getAttribute("data-rr-live-seconds")) || 5);
    var wait = every, timer = null, asking = false;
    var ask = function () {
      timer = null;
      if (document.hidden) { return; }  // the visibilitychange listener asks again
      asking = true;
      fetch(markerUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        })
        .then(function (answer) {
          wait = every;
          if (answer.marker !== known) {
            known = answer.marker;
            return refresh(true);
          }
        })
        .catch(function () { wait = Math.min(wait * 2, 60000); })
        .then(function () {
          asking = false;
          if (!document.hidden) { timer = window.setTimeout(ask, wait); }
        });
    };
    document.addEventListener("visibilitychange", function () {
      if (document.hidden || asking) { return; }
      if (timer) { window.clearTimeout(timer); }
      ask();
    });
    timer = window.setTimeout(ask, every);
  }
}());
