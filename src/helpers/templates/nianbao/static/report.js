/* nianbao report page script (no framework, nothing fetched):
   - one tooltip for every figure's derivation ([data-derivation]), shown on hover or keyboard
     focus, placed inside the viewport and, for a figure in a table, inside that table; it is
     position: fixed, so it never widens the page;
   - the table of contents folds behind a button on narrow screens (details.nb-toc-fold is
     open in the markup, so the page works without this script). */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("nb-js");
  var MARGIN = 8;
  var tip = null;
  var current = null;

  function tipElement() {
    if (tip === null) {
      tip = doc.createElement("div");
      tip.className = "nb-tip";
      tip.id = "nb-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      doc.body.appendChild(tip);
    }
    return tip;
  }

  function place(el) {
    var t = tipElement();
    var width = doc.documentElement.clientWidth;
    var height = window.innerHeight;
    var lo = MARGIN;
    var hi = width - MARGIN;
    var box = el.closest("figure.nb-table");
    if (box !== null) {
      var b = box.getBoundingClientRect();
      lo = Math.max(lo, b.left);
      hi = Math.min(hi, b.right);
    }
    t.style.maxWidth = Math.max(Math.min(480, hi - lo), 120) + "px";
    t.style.left = "0px";
    t.style.top = "0px";
    var r = el.getBoundingClientRect();
    var size = t.getBoundingClientRect();
    var x = Math.max(lo, Math.min(r.left, hi - size.width));
    var y = r.bottom + 6;
    if (y + size.height > height - MARGIN) {
      y = r.top - 6 - size.height;
    }
    y = Math.max(MARGIN, Math.min(y, height - MARGIN - size.height));
    t.style.left = Math.round(x) + "px";
    t.style.top = Math.round(y) + "px";
  }

  function show(el) {
    var text = el.getAttribute("data-derivation");
    if (!text) {
      return;
    }
    if (current !== null && current !== el) {
      current.removeAttribute("aria-describedby");
    }
    var t = tipElement();
    t.textContent = text;
    t.hidden = false;
    current = el;
    el.setAttribute("aria-describedby", "nb-tip");
    place(el);
  }

  function hide() {
    if (tip !== null) {
      tip.hidden = true;
    }
    if (current !== null) {
      current.removeAttribute("aria-describedby");
    }
    current = null;
  }

  function target(e) {
    return e.target && e.target.closest ? e.target.closest("[data-derivation]") : null;
  }

  doc.addEventListener("mouseover", function (e) {
    var el = target(e);
    if (el !== null) {
      if (el !== current) {
        show(el);
      }
    } else if (current !== null && current !== doc.activeElement) {
      hide();
    }
  });
  doc.addEventListener("focusin", function (e) {
    var el = target(e);
    if (el !== null) {
      show(el);
    }
  });
  doc.addEventListener("focusout", function (e) {
    if (target(e) === current) {
      hide();
    }
  });
  doc.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      hide();
    }
  });
  window.addEventListener("scroll", function () {
    if (current !== null) {
      place(current);
    }
  }, { passive: true });
  window.addEventListener("resize", hide);

  // the contents: folded behind its button on a narrow screen; a chosen entry folds it again
  var fold = doc.querySelector("details.nb-toc-fold");
  var narrow = window.matchMedia("(max-width: 60rem)");
  if (fold !== null) {
    if (narrow.matches) {
      fold.open = false;
    }
    fold.addEventListener("click", function (e) {
      if (narrow.matches && e.target.closest && e.target.closest("a[href^='#']")) {
        fold.open = false;
      }
    });
    narrow.addEventListener("change", function () {
      fold.open = !narrow.matches;
    });
  }
})();
