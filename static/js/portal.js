// Progressive enhancement only: every page works without this script.
// After a failed submit, move focus to the error summary so that screen readers announce it
// and keyboard users start from the list of errors (GOV.UK's error summary pattern).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
