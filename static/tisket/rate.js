// A click on a score in the mail opened this page: record that score at once.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
})();
