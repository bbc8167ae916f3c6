/* Users: create (with groups and a first password), disable or enable, reset a password (generated
   here, shown once), change a user's groups. */
(function () {
  'use strict';
  const { api, el, t } = window.Opsflow;
  const { requireAdmin, say, fail, act, checked, groupName, groupBoxes } = window.OpsflowAdmin;
  const me = requireAdmin();
  if (!me) return;

  const form = document.getElementById('user-form');
  const rows = document.getElementById('user-rows');
  const editor = document.getElementById('groups-editor');
  const editForm = document.getElementById('groups-form');
  let users = [];
  let groups = [];
  let editing = null; // the user whose groups are being changed

  async function load() {
    try {
      [users, groups] = await Promise.all([api('GET', '/api/v1/users'), api('GET', '/api/v1/groups')]);
      render();
    } catch (e) {
      fail(e);
    }
  }

  function patch(user, body) {
    return api('PATCH', '/api/v1/users/' + encodeURIComponent(user.name), body);
  }

  /** 16 random characters from the browser's cryptographic generator. */
  function newPassword() {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  }

  function showPassword(name, password) {
    document.getElementById('user-secret-text').textContent = t('users.new_password', { name });
    document.getElementById('user-secret-value').textContent = password;
    document.getElementById('user-secret').hidden = false;
  }

  function button(action, text, fn) {
    return el('button', {
      type: 'button', class: 'btn btn-small', 'data-action': action,
      onclick: (event) => act(event.currentTarget, fn)
    }, text);
  }

  function actions(user) {
    const buttons = [];
    if (user.name !== me.name) { // an admin does not lock themselves out
      const disable = !user.disabled;
      buttons.push(button(disable ? 'disable' : 'enable', t(disable ? 'users.disable' : 'users.enable'), async () => {
        await patch(user, { disabled: disable });
        say(t(disable ? 'users.disabled_done' : 'users.enabled_done', { name: user.name }));
        await load();
      }));
    }
    buttons.push(button('reset-password', t('users.reset'), async () => {
      const password = newPassword();
      await patch(user, { password });
      showPassword(user.name, password);
    }));
    buttons.push(button('edit-groups', t('users.edit_groups'), async () => openEditor(user)));
    return el('div', { class: 'row-actions' }, buttons);
  }

  function namesOf(ids) {
    return ids.map((id) => groupName(groups.find((g) => g.id === id) || { id })).join(', ') || t('common.none');
  }

  function render() {
    groupBoxes(document.getElementById('user-groups'), groups, checked(form, 'groups'));
    rows.replaceChildren(...users.map((user) => el('tr', { 'data-user': user.name },
      el('th', { scope: 'row' }, user.name),
      el('td', null, user.display_name || t('common.none')),
      el('td', { 'data-field': 'groups' }, namesOf(user.groups)),
      el('td', null, el('span', {
        class: 'badge ' + (user.disabled ? 'badge-muted' : 'badge-ok'), 'data-status': user.disabled ? 'disabled' : 'active'
      }, t(user.disabled ? 'users.disabled' : 'users.active'))),
      el('td', null, actions(user)))));
    if (editing) openEditor(users.find((u) => u.name === editing.name) || editing);
  }

  function openEditor(user) {
    editing = user;
    document.getElementById('groups-editor-title').textContent = t('users.groups_of', { name: user.name });
    groupBoxes(document.getElementById('edit-groups'), groups, user.groups);
    editor.hidden = false;
  }

  editForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const user = editing;
    act(editForm.querySelector('button[type=submit]'), async () => {
      await patch(user, { groups: checked(editForm, 'groups') });
      editing = null;
      editor.hidden = true;
      say(t('admin.saved'));
      await load();
    });
  });
  document.getElementById('groups-cancel').addEventListener('click', () => { editing = null; editor.hidden = true; });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      name: form.elements.name.value.trim(),
      groups: checked(form, 'groups'),
      display_name: form.elements.display_name.value.trim()
    };
    if (form.elements.password.value) body.password = form.elements.password.value;
    act(form.querySelector('button[type=submit]'), async () => {
      await api('POST', '/api/v1/users', body);
      form.reset();
      say(t('users.created', { name: body.name }));
      await load();
    });
  });
  document.addEventListener('langchange', render);
  load();
})();
