/* Copy and share buttons for a link or code shown in a .token-box (proof links, partner
   codes). Served from static/ because the CSP allows no inline script. Without script, or
   where the browser lacks the Clipboard API or navigator.share, the buttons stay hidden
   and the box itself stays selectable (user-select: all). */
(function () {
  "use strict";

  function say(actions, key) {
    var status = actions.querySelector(".share-status");
    if (status) status.textContent = status.getAttribute("data-" + key) || "";
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-share-for]").forEach(function (actions) {
    var box = document.getElementById(actions.getAttribute("data-share-for"));
    if (!box) return;
    var text = function () { return box.textContent.trim(); };
    var copy = actions.querySelector("[data-action=copy]");
    var share = actions.querySelector("[data-action=share]");

    if (copy && navigator.clipboard && window.isSecureContext) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(text()).then(
          function () { say(actions, "copied"); },
          function () { selectText(box); say(actions, "select"); }
        );
      });
    }
    if (share && typeof navigator.share === "function") {
      share.hidden = false;
      share.addEventListener("click", function () {
        var data = { title: actions.getAttribute("data-share-title") || document.title };
        if (actions.getAttribute("data-share-kind") === "url") data.url = text();
        else data.text = text();
        navigator.share(data).catch(function () { /* closed by the person: nothing to do */ });
      });
    }
  });
})();
