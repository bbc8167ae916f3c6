/* API keys: create one with its scopes (the secret is shown once), see when each was last used, revoke. */
(function () {
  'use strict';
  const { api, el, fmtDate, t } = window.Opsflow;
  const { requireAdmin, say, fail, act, checked } = window.OpsflowAdmin;
  if (!requireAdmin()) return;

  const form = document.getElementById('key-form');
  const rows = document.getElementById('key-rows');
  let keys = [];

  async function load() {
    try {
      keys = await api('GET', '/api/v1/api-keys');
      render();
    } catch (e) {
      fail(e);
    }
  }

  function render() {
    rows.replaceChildren(...keys.map((key) => el('tr', { 'data-key-id': key.id, 'data-key-name': key.name },
      el('th', { scope: 'row' }, key.name),
      el('td', null, key.system),
      el('td', null, key.scopes.map((s) => el('code', null, s, ' '))),
      el('td', null, fmtDate(key.created_at)),
      el('td', { 'data-field': 'last_used' }, key.last_used_at ? fmtDate(key.last_used_at) : t('keys.never')),
      el('td', null, key.expires_at ? fmtDate(key.expires_at) : t('keys.no_expiry')),
      el('td', { 'data-field': 'status' }, el('span', { class: 'badge ' + (key.revoked_at ? 'badge-muted' : 'badge-ok') },
        t(key.revoked_at ? 'keys.revoked' : 'keys.active'))),
      el('td', null, key.revoked_at ? '' : el('button', {
        type: 'button', class: 'btn btn-small', 'data-action': 'revoke',
        onclick: (event) => act(event.currentTarget, async () => {
          await api('DELETE', '/api/v1/api-keys/' + encodeURIComponent(key.id));
          say(t('keys.revoked_done', { name: key.name }));
          await load();
        })
      }, t('keys.revoke'))))));
    document.getElementById('keys-empty').hidden = keys.length > 0;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      name: form.elements.name.value.trim(),
      system: form.elements.system.value.trim(),
      scopes: checked(form, 'scopes')
    };
    const days = form.elements.expires_in_days.value;
    if (days) body.expires_in_days = Number(days);
    act(form.querySelector('button[type=submit]'), async () => {
      const created = await api('POST', '/api/v1/api-keys', body);
      form.reset();
      document.getElementById('key-secret-value').textContent = created.key;
      document.getElementById('key-secret').hidden = false;
      await load();
    });
  });
  document.addEventListener('langchange', render);
  load();
})();
