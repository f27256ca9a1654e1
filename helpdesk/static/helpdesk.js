// Help desk: small improvements on pages that work without this script.
// The ticket list's bulk action: a box ticking every row and a count of the ticked ones.
// The composer's "Reply all" / "Reply to requester only": switch To and Cc in place (without
// the script, each is a link that renders the composer again).
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

  Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk]"), bulkSelection);
  Array.prototype.forEach.call(document.querySelectorAll(".composer"), replyModes);
})();
