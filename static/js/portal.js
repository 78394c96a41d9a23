// Behaviour for the shell, kept out of the HTML: the Content-Security-Policy allows no inline
// script. A <select data-autosubmit> submits its form when changed (the language picker);
// without JavaScript the <noscript> button does the same.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.submit();
  }
});
