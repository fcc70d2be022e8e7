// hpmon: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    // Selects that submit their form when changed (sort order, role).
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        var form = el.form;
        if (form) { if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); } }
      });
    });
    document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    // Confirmation before destructive actions.
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    // The menu button on narrow screens.
    document.querySelectorAll("[data-toggle]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-toggle"));
      if (!target) { return; }
      button.addEventListener("click", function () {
        var open = target.classList.toggle("open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
    // Filters start folded on phones.
    if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
      document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
    }
  });
})();
