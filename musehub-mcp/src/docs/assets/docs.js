// The /mcp/docs page: live filter, copy buttons, and the page's own origin in snippets.
// Served by the binary (the page's Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  function fillOrigin() {
    if (document.body.dataset.fillOrigin !== "true") return;
    var origin = window.location.origin;
    if (!origin || origin === "null") return;
    document.querySelectorAll(".js-origin").forEach(function (el) {
      el.textContent = origin;
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function setupCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.copy") : null;
      if (!button) return;
      var target = document.getElementById(button.dataset.copy || "");
      if (!target) return;
      var label = button.textContent;
      copyText(target.textContent).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
      }, function () {
        button.textContent = "Select and copy";
      }).then(function () {
        window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
        }, 1500);
      });
    });
  }

  function setupFilter() {
    var input = document.getElementById("filter");
    var status = document.getElementById("filter-status");
    var noMatch = document.getElementById("no-match");
    if (!input) return;
    var items = Array.prototype.slice.call(document.querySelectorAll(".item"));
    var groups = Array.prototype.slice.call(document.querySelectorAll("section[data-group]"));
    var tocGroups = Array.prototype.slice.call(document.querySelectorAll(".toc-group"));
    var tocLinks = Array.prototype.slice.call(document.querySelectorAll(".toc li[data-for]"));
    var toolsSection = document.getElementById("tools");
    var toolCount = document.querySelector("[data-kind-count='tool']");
    var total = items.length;

    function plural(n) {
      return n === 1 ? "item" : "items";
    }

    function apply() {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var filtering = terms.length > 0;
      var visible = 0;
      var visibleIds = {};
      items.forEach(function (item) {
        var haystack = (item.dataset.search || "") + " " + (item.dataset.name || "").toLowerCase();
        var match = terms.every(function (t) { return haystack.indexOf(t) !== -1; });
        item.hidden = !match;
        if (match) {
          visible += 1;
          visibleIds[item.id] = true;
        }
      });
      groups.forEach(function (group) {
        var all = group.querySelectorAll(".item");
        var shown = group.querySelectorAll(".item:not([hidden])").length;
        var text = filtering ? shown + " / " + all.length : String(all.length);
        document.querySelectorAll("[data-group-count='" + group.dataset.group + "']").forEach(function (el) {
          el.textContent = text;
        });
        group.hidden = filtering && shown === 0;
      });
      tocLinks.forEach(function (li) {
        li.hidden = !visibleIds[li.dataset.for];
      });
      tocGroups.forEach(function (g) {
        g.hidden = filtering && g.querySelectorAll("li:not([hidden])").length === 0;
      });
      if (toolsSection) {
        var tools = toolsSection.querySelectorAll(".item");
        var shownTools = toolsSection.querySelectorAll(".item:not([hidden])").length;
        if (toolCount) toolCount.textContent = filtering ? shownTools + " / " + tools.length : String(tools.length);
        toolsSection.hidden = filtering && shownTools === 0;
      }
      document.body.classList.toggle("filtering", filtering);
      if (noMatch) noMatch.hidden = visible !== 0;
      if (status) {
        status.textContent = filtering
          ? visible + " of " + total + " " + plural(total) + " match"
          : total + " " + plural(total);
      }
      var url = new URL(window.location.href);
      if (filtering) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
      window.history.replaceState(null, "", url.toString());
    }

    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial) input.value = initial;
    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        input.value = "";
        apply();
        input.blur();
      }
    });
    document.addEventListener("keydown", function (event) {
      var tag = document.activeElement ? document.activeElement.tagName : "";
      if (event.key === "/" && tag !== "INPUT" && tag !== "TEXTAREA") {
        event.preventDefault();
        input.focus();
        input.select();
      }
    });
    apply();
  }

  // Tabbed code panels: one panel shows at a time; Copy copies the one shown. Without
  // script every panel stays visible.
  function setupTabs() {
    document.querySelectorAll(".tabs").forEach(function (box) {
      var tabs = Array.prototype.slice.call(box.querySelectorAll(".tab"));
      var copy = box.querySelector(".copy");
      function select(tab) {
        tabs.forEach(function (t) {
          var on = t === tab;
          t.setAttribute("aria-selected", on ? "true" : "false");
          t.tabIndex = on ? 0 : -1;
          var panel = document.getElementById(t.getAttribute("aria-controls"));
          if (panel) panel.hidden = !on;
        });
        if (copy) copy.dataset.copy = tab.dataset.target;
      }
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function () { select(tab); });
        tab.addEventListener("keydown", function (event) {
          var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
          if (!step) return;
          var next = tabs[(i + step + tabs.length) % tabs.length];
          select(next);
          next.focus();
        });
      });
      if (tabs.length) select(tabs[0]);
    });
  }

  function start() {
    fillOrigin();
    setupTabs();
    setupCopy();
    setupFilter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
