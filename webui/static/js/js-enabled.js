// Marks the page as having JavaScript before it is drawn (GOV.UK Frontend styles depend on these classes).
// A file rather than an inline script, so that the content security policy can refuse every inline script.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
