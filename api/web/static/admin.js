/* Shared by the admin pages: only admins see the content (the API refuses everyone else with 403),
   a status line for what an action did, and a button helper. */
(function () {
  'use strict';
  const { requireUser, hasRole, showMessage, errorText, t, lang } = window.Opsflow;
  const content = document.getElementById('admin-content');
  const forbidden = document.getElementById('admin-forbidden');
  const status = document.getElementById('admin-status');

  function refuse() {
    content.hidden = true;
    forbidden.hidden = false;
  }

  /** The signed-in admin, or null (then the page shows that it is for admins only). */
  function requireAdmin() {
    const user = requireUser();
    if (!user) return null;
    if (!hasRole('admin')) {
      refuse();
      return null;
    }
    content.hidden = false;
    return user;
  }

  function say(text, kind) {
    showMessage(status, text, kind || 'success');
  }

  function fail(error) {
    if (error && error.status === 403) {
      refuse();
      return;
    }
    const where = (error && error.problems ? error.problems : [])
      .map((p) => (p.path ? p.path + ': ' : '') + p.message).join('; ');
    say(t('common.error', { message: errorText(error) + (where ? ' (' + where + ')' : '') }), 'error');
  }

  /** Run an action from a button: disabled meanwhile; failures go to the status line. */
  async function act(button, fn) {
    if (button) button.disabled = true;
    say('');
    try {
      await fn();
    } catch (e) {
      fail(e);
    } finally {
      if (button) button.disabled = false;
    }
  }

  function checked(form, name) {
    return Array.from(form.querySelectorAll(`input[name="${name}"]:checked`)).map((box) => box.value);
  }

  /** A group's name in the page's language (its id when it has none). */
  function groupName(group) {
    return (lang() === 'en' ? group.name_en : group.name_zh) || group.id;
  }

  /** One checkbox per group, inside `fieldset` (after its legend), ticked for `selected`. */
  function groupBoxes(fieldset, groups, selected) {
    const legend = fieldset.querySelector('legend');
    fieldset.replaceChildren(legend, ...groups.map((group) => window.Opsflow.el('label', { class: 'field-check' },
      window.Opsflow.el('input', { type: 'checkbox', name: 'groups', value: group.id, checked: selected.includes(group.id) }),
      ' ', groupName(group))));
  }

  window.OpsflowAdmin = { requireAdmin, say, fail, act, checked, groupName, groupBoxes };
})();
