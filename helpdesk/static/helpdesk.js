// Help desk: small improvements on pages that work without this script.
// The ticket list's bulk action: a box ticking every row and a count of the ticked ones.
// The composer's "Reply all" / "Reply to requester only": switch To and Cc in place (without
// the script, each is a link that renders the composer again).
// A reply being sent: its state is asked for again every few seconds until the worker has
// sent it, and swapped in, so "Sending..." becomes the result without a reload (announced
// through the state's live region).
(function () {
  "use strict";

  function bulkSelection(form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=tickets]'));
    var all = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-selected-count]");
    function update() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
      count.textContent = ticked ? ticked + " selected" : "";
    }
    all.closest("label").hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      update();
    });
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  function replyModes(composer) {
    var form = composer.querySelector("form[data-reply-all-to]");
    var links = composer.querySelectorAll("a[data-reply-mode]");
    if (!form) { return; }
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        var all = link.getAttribute("data-reply-mode") === "all";
        event.preventDefault();
        form.elements.to.value = all ? form.getAttribute("data-reply-all-to") : form.getAttribute("data-requester");
        form.elements.cc.value = all ? form.getAttribute("data-reply-all-cc") : "";
        Array.prototype.forEach.call(links, function (other) {
          if (other === link) { other.setAttribute("aria-current", "true"); } else { other.removeAttribute("aria-current"); }
        });
        form.elements.to.focus();
      });
    });
  }

  function sendStates(thread) {
    var url = thread.getAttribute("data-send-states");
    var every = 2000, wait = every;
    function ask() {
      if (!thread.querySelector("[data-send-state][data-sending]")) { return; }
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      }).then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        Array.prototype.forEach.call(box.querySelectorAll("template[data-send-state-for]"), function (template) {
          var id = template.getAttribute("data-send-state-for");
          var old = thread.querySelector('[data-send-state="' + id + '"]');
          var fresh = template.content.querySelector("[data-send-state]");
          if (old && fresh && old.innerHTML !== fresh.innerHTML) { old.replaceWith(fresh.cloneNode(true)); }
        });
        wait = every;
      }).catch(function () { wait = Math.min(wait * 2, 60000); })
        .then(function () { window.setTimeout(ask, wait); });
    }
    window.setTimeout(ask, every);
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk]"), bulkSelection);
  Array.prototype.forEach.call(document.querySelectorAll(".thread[data-send-states]"), sendStates);
  Array.prototype.forEach.call(document.querySelectorAll(".composer"), replyModes);
})();
