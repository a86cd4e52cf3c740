'use strict';
// Sign-in: the admin key goes to the gateway once and is exchanged for an HttpOnly session cookie.
(() => {
  const form = document.getElementById('signin');
  const input = document.getElementById('key');
  const error = document.getElementById('error');

  function target() {
    const next = new URLSearchParams(location.search).get('next') || '';
    // Only a path inside the console: never an absolute URL (no open redirect).
    return /^\/admin\/[a-z]+$/.test(next) ? next : '/admin/dashboard';
  }

  fetch('/admin/api/session', { credentials: 'same-origin' }).then(r => { if (r.ok) location.replace(target()); });

  form.addEventListener('submit', async event => {
    event.preventDefault();
    error.textContent = '';
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Enter the admin key.';
      input.focus();
      return;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const response = await fetch('/admin/api/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
      });
      input.value = '';
      if (response.ok) {
        location.replace(target());
        return;
      }
      const body = await response.json().catch(() => ({}));
      error.textContent = body.error?.message || `Sign-in failed (${response.status}).`;
      input.focus();
    } catch {
      error.textContent = 'The gateway cannot be reached.';
    } finally {
      button.disabled = false;
    }
  });
})();
