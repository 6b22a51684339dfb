// Behaviour the templates ask for through data attributes: the Content-Security-Policy allows no inline
// script or event handler attribute, so this file does what they used to.
(function () {
  // <select data-autosubmit>: a filter form is sent as soon as a choice changes.
  document.addEventListener("change", function (event) {
    const field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });
  // The django-rq dashboard's result rows navigate through an inline onclick, which the policy blocks:
  // a click on the row follows the row's own link. (Its bulk actions come from admin/js/actions.js.)
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr.rq-clickable");
    if (!row || event.target.closest("a, button, input, label")) return;
    const link = row.querySelector("a[href]");
    if (link) window.location.assign(link.href);
  });
})();
