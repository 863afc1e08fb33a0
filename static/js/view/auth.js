// The log in / register screen.

import { $, showText } from './dom.js';

const MODES = {
  login: { submit: 'Log in', autocomplete: 'current-password', hints: false },
  register: { submit: 'Create account', autocomplete: 'new-password', hints: true },
};

/**
 * submit(mode, username, password, endOthers) resolves with the username on success and
 * throws an Error with a `message` to show otherwise.
 */
export function initAuthView({ submit, onAuthed }) {
  const form = $('auth-form');
  const username = $('auth-username');
  const password = $('auth-password');
  const button = $('auth-submit');
  const error = $('auth-error');
  const endOthers = $('auth-end-others');
  const tabs = { login: $('auth-tab-login'), register: $('auth-tab-register') };
  let mode = 'login';
  let busy = false;

  function setMode(next) {
    mode = next;
    const m = MODES[mode];
    for (const [name, tab] of Object.entries(tabs)) {
      tab.setAttribute('aria-pressed', String(name === mode));
      tab.classList.toggle('is-active', name === mode);
    }
    button.textContent = m.submit;
    password.setAttribute('autocomplete', m.autocomplete);
    $('auth-username-hint').hidden = !m.hints;
    $('auth-password-hint').hidden = !m.hints;
    $('auth-end-others-field').hidden = mode !== 'login';
    showText(error, '');
  }

  tabs.login.addEventListener('click', () => setMode('login'));
  tabs.register.addEventListener('click', () => setMode('register'));
  [username, password].forEach((input) => input.addEventListener('input', () => {
    input.removeAttribute('aria-invalid');
  }));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    const name = username.value.trim();
    const pass = password.value;
    if (!name || !pass) {
      const empty = !name ? username : password;
      empty.setAttribute('aria-invalid', 'true');
      showText(error, !name ? 'Enter a username.' : 'Enter a password.');
      empty.focus();
      return;
    }
    busy = true;
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showText(error, '');
    try {
      const user = await submit(mode, name, pass, mode === 'login' && endOthers.checked);
      password.value = '';
      endOthers.checked = false;
      onAuthed(user);
    } catch (err) {
      showText(error, err && err.message ? err.message : 'Something went wrong. Try again.');
      if (err && err.status === 401) password.select();
    } finally {
      busy = false;
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  return {
    /** Prepares the screen; `message` is shown as an error when given. */
    reset(message = '') {
      setMode(mode);
      password.value = '';
      showText(error, message);
    },
    focus() {
      (username.value ? password : username).focus();
    },
  };
}
