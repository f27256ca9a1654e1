// Receipts plugin: open the Thread Read Info panel in the page and refresh states without reloading.
// Everything works without this script (the state links to the panel's own page).
(function () {
  "use strict";
  var host = document.getElementById("rr-panel-host");

  function fetchText(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    });
  }

  function openPanel(link) {
    if (!host) { return false; }
    host.setAttribute("aria-busy", "true");
    fetchText(link.getAttribute("data-rr-fragment")).then(function (html) {
      host.innerHTML = html;
      host.hidden = false;
      host.setAttribute("data-rr-open", link.getAttribute("data-rr-fragment"));
      host.removeAttribute("aria-busy");
      var heading = host.querySelector("h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    }).catch(function () { window.location.href = link.href; });
    return true;
  }

  function applyStates(states) {
    Object.keys(states).forEach(function (id) {
      var s = states[id];
      document.querySelectorAll('a.rr-state[data-rr-message="' + id + '"]').forEach(function (el) {
        el.className = "rr-state rr-" + s.state + (s.checks === 2 ? " rr-highlight" : "");
        el.title = s.tooltip;
        el.querySelector(".rr-label").textContent = s.label;
        el.querySelector(".rr-checks").textContent = s.checks === 2 ? "\u2713\u2713" : s.checks === 1 ? "\u2713" :
          (s.state === "bounced" || s.state === "failed") ? "\u2717" : "\u2022";
      });
    });
  }

  function refresh(ticketId) {
    var status = document.getElementById("rr-refresh-status");
    if (status) { status.textContent = "Refreshing\u2026"; }
    return fetch("/api/v1/tickets/" + ticketId + "/read-states", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        applyStates(data.messages);
        var open = host && host.getAttribute("data-rr-open");
        return open ? fetchText(open).then(function (html) { host.innerHTML = html; }) : null;
      })
      .then(function () { if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString(); } })
      .catch(function () { if (status) { status.textContent = "Could not refresh; try again."; } });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.rr-state[data-rr-fragment], a.rr-track[data-rr-fragment]");
    if (link && openPanel(link)) { event.preventDefault(); return; }
    var button = event.target.closest("[data-rr-refresh]");
    if (button) { event.preventDefault(); refresh(button.getAttribute("data-rr-refresh")); }
  });

  var live = document.querySelector("[data-rr-live]");
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute("data-rr-live"));
    source.addEventListener("read-info", function () { refresh(live.getAttribute("data-rr-ticket")); });
  }
}());
