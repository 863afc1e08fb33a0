// A typeahead over people (GET /api/users?prefix=): an input that is an ARIA
// combobox with a listbox of suggestions under it. Typing asks the server
// once the keys pause; arrows move through the suggestions, Enter takes the
// one marked (or, with none marked, the name as typed, so that the server
// can say when there is no such person), Escape closes the suggestions
// (and what holds the picker, when it says so). Used to start a
// direct conversation and to invite someone into a private channel.

import { avatar } from './avatar.js';
import { h, showText } from './dom.js';

const DEBOUNCE_MS = 150;
/** What the server takes as a prefix: anything else would only be refused. */
const PREFIX = /^[A-Za-z0-9_]{1,32}$/;

let pickers = 0;

/**
 * input: the text input; list: the <ul> for suggestions; status: a <p>
 * for "No one…" and errors. search(prefix): resolves with usernames.
 * choose(user): called with the person taken (may return a promise; the
 * input is cleared once it resolves). exclude(): names not to suggest.
 * escape(): what Escape also closes (e.g. the picker's panel), if anything.
 */
export function createPicker({ input, list, status, search, choose, exclude = () => [], escape = null }) {
  pickers += 1;
  const idBase = `picker-${pickers}`;
  let users = [];
  let marked = -1;
  let timer = null;
  let asked = 0; // the number of the newest question; older answers are dropped
  let busy = false;

  if (!list.id) list.id = `${idBase}-list`;
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('autocomplete', 'off');
  list.setAttribute('role', 'listbox');

  function render() {
    list.replaceChildren(...users.map((user, i) => h('li', {
      id: `${idBase}-opt-${i}`,
      role: 'option',
      class: i === marked ? 'picker-option is-marked' : 'picker-option',
      'aria-selected': String(i === marked),
      // The input keeps the focus while a suggestion is clicked.
      onmousedown: (ev) => ev.preventDefault(),
      onclick: () => take(user),
    }, avatar(user, 'sm'), h('span', { class: 'picker-name', text: user }))));
    const open = users.length > 0;
    list.hidden = !open;
    input.setAttribute('aria-expanded', String(open));
    if (open && marked >= 0) input.setAttribute('aria-activedescendant', `${idBase}-opt-${marked}`);
    else input.removeAttribute('aria-activedescendant');
    if (marked >= 0 && list.children[marked]) list.children[marked].scrollIntoView({ block: 'nearest' });
  }

  /** A line under the field: a hint, or (`isError`) what went wrong. */
  function say(text, isError = false) {
    showText(status, text);
    status.classList.toggle('is-error', isError && !!text);
  }

  function hide() {
    users = [];
    marked = -1;
    render();
  }

  async function lookUp(prefix) {
    const n = ++asked;
    let found;
    try {
      found = await search(prefix);
    } catch (err) {
      if (n !== asked) return;
      hide();
      say(err && err.message ? err.message : 'Could not look people up.', true);
      return;
    }
    if (n !== asked || input.value.trim() !== prefix) return;
    const skip = new Set([...exclude()].map((u) => u.toLowerCase()));
    users = found.filter((u) => !skip.has(u.toLowerCase()));
    marked = users.length ? 0 : -1;
    render();
    say(users.length ? '' : `No one else found starting with “${prefix}”.`);
  }

  function onInput() {
    clearTimeout(timer);
    asked += 1; // an answer to what was typed before is no longer wanted
    say('');
    const prefix = input.value.trim();
    if (!PREFIX.test(prefix)) {
      hide();
      return;
    }
    // Until the server answers, only the suggestions that still fit stay (Enter must not take one that does not).
    const kept = users.filter((u) => u.toLowerCase().startsWith(prefix.toLowerCase()));
    if (kept.length !== users.length) {
      const was = users[marked];
      users = kept;
      marked = Math.max(0, users.indexOf(was));
      if (!users.length) marked = -1;
      render();
    }
    timer = setTimeout(() => lookUp(prefix), DEBOUNCE_MS);
  }

  async function take(user) {
    if (busy || !user) return;
    busy = true;
    clearTimeout(timer);
    asked += 1;
    hide();
    input.setAttribute('aria-busy', 'true');
    try {
      await choose(user);
      input.value = '';
    } catch (err) {
      say(err && err.message ? err.message : 'That did not work.', true);
    } finally {
      busy = false;
      input.removeAttribute('aria-busy');
    }
  }

  function move(by) {
    if (!users.length) return;
    marked = (marked + by + users.length) % users.length;
    render();
  }

  input.addEventListener('input', onInput);
  input.addEventListener('keydown', (ev) => {
    if (ev.isComposing) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (!users.length && PREFIX.test(input.value.trim())) lookUp(input.value.trim());
      else move(ev.key === 'ArrowDown' ? 1 : -1);
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      const typed = input.value.trim();
      take(marked >= 0 ? users[marked] : typed);
    } else if (ev.key === 'Escape') {
      // Handled here, not by the drawers' Escape (layout.js) as well.
      if (!users.length && !escape) return;
      ev.stopPropagation();
      hide();
      if (escape) escape();
    }
  });
  input.addEventListener('blur', () => {
    // A click on a suggestion keeps the focus (mousedown above): anything else closes them.
    hide();
  });

  return {
    /** Empties the field, its suggestions and its message. */
    reset() {
      clearTimeout(timer);
      asked += 1;
      input.value = '';
      hide();
      say('');
    },
    /** Shows a line under the field (e.g. what was done). */
    say,
  };
}
