// Behaviour shared by every page, kept out of the HTML so the Content-Security-Policy can forbid
// inline scripts and handlers (script-src 'self').
(function () {
  "use strict";
  // The language switch submits as soon as a language is picked (it was an inline onchange).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();
