/* Sign-in: name + password -> bearer token (POST /api/v1/session), kept in sessionStorage. */
(function () {
  'use strict';
  const { api, session, showMessage, t, ApiError } = window.Opsflow;
  const form = document.getElementById('signin-form');
  const error = document.getElementById('signin-error');
  const params = new URLSearchParams(location.search);
  if (params.get('signed_out')) showMessage(error, t('signin.signed_out'), 'info');

  function nextPage(roles) {
    // the server checked ?next= (api/web/routes.py safe_next): empty unless it is a page of this site
    const next = form.dataset.next;
    if (next) return next;
    return roles.includes('designer') && !roles.some((r) => ['leader', 'data', 'execution', 'support'].includes(r))
      ? '/designer' : '/inbox';
  }

  // Single sign-on: the button carries `next`; back from the provider, the token is fetched once.
  const sso = document.getElementById('signin-sso');
  function labelSso() {
    if (sso) sso.textContent = t('signin.sso', { provider: sso.dataset.provider });
  }
  labelSso();
  document.addEventListener('langchange', labelSso);
  if (sso && params.get('next')) sso.href = '/auth/oidc/login?next=' + encodeURIComponent(params.get('next'));
  const refused = params.get('sso_error');
  if (refused) {
    const key = 'signin.sso_refused.' + refused;
    showMessage(error, window.OpsflowI18n.has(key) ? t(key) : t('signin.sso_failed', { reason: refused }), 'error');
  }

  async function signedIn(token, fallbackName) {
    session.set({ token, name: fallbackName, display_name: fallbackName, roles: [] });
    const me = await api('GET', '/api/v1/me');
    session.set({ token, name: me.name, display_name: me.display_name, roles: me.groups });
    location.assign(nextPage(me.groups));
  }

  if (params.get('sso') === 'done') {
    fetch('/web/sso/token', { method: 'POST', headers: { Accept: 'application/json' } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new ApiError(response.status, {}))))
      .then(({ token }) => signedIn(token, ''))
      .catch((e) => {
        session.clear();
        showMessage(error, t('signin.sso_failed', { reason: e.status || e.message }), 'error');
      });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(error, '');
    const name = form.elements.name.value.trim();
    const password = form.elements.password.value;
    if (!name || !password) {
      showMessage(error, t('signin.failed'), 'error');
      return;
    }
    try {
      const { token } = await api('POST', '/api/v1/session', { name, password }, { keepSession: true });
      await signedIn(token, name);
    } catch (e) {
      session.clear();
      showMessage(error, e instanceof ApiError && e.status === 401 ? t('signin.failed') : t('common.error', { message: e.message }), 'error');
      form.elements.password.focus();
    }
  });
})();
