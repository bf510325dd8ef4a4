// The error summary, as GOV.UK Frontend does it: focused on arrival so that it is read out
// first, and each link moves focus into its field (a fragment link alone only scrolls).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".govuk-error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var group = field.closest(".govuk-form-group");
    (group || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
});
