// The members panel of the active channel and the count of those present.
//
// The count (in the header, and on the members button on a phone) is the
// server's: a `joined` frame says how many are present and each presence
// batch says it again, so it is right however few of their names this tab
// holds.
//
// The list is read page by page from GET …/members: everyone with a role
// there (in a private channel or DM, every member) and everyone present, by
// name, a dot on those present. The first page is read when the panel is
// shown, the next one when the list is scrolled to its end or "Show more" is
// pressed; nothing past the pages read is ever rendered. Presence batches
// are applied to the rows held; while the panel is shown the pages held are
// read again at most every REREAD_MS (to learn what a batch could not say:
// the names past those it lists, who left for good), and never while it is
// hidden.
//
// For the owner and moderators: an invite field (private channels), "Make
// moderator", "Make member" (the owner, for moderators), "Remove" or "Ban"
// (asked twice), and the banned list with "Lift ban" (public channels). The
// owner is never acted on, nor is oneself. What the server refuses is said
// in the panel.

import { state, isMe, memberCount, membersRead } from '../state.js';
import { canManage, isDm, isPrivate, learnRole, roleOf } from '../rooms.js';
import { avatar } from './avatar.js';
import { $, h, showText } from './dom.js';
import { createPicker } from './picker.js';

/** How long a "Ban"/"Remove" waits for its confirming second press. */
const ARMED_MS = 5000;
/** People read at once, unless the server tells fewer names at once (its --joined-members). */
const PAGE = 100;
/** The most the server gives in one page. */
const MAX_PAGE = 500;
/** The most rows read again at once; rows held past them keep what the batches said. */
const REREAD_MAX = 500;
/** At most one reading again of the list in this long, while the panel is shown. */
const REREAD_MS = 3000;
/** How near its end (px) a scroll of the list reads the next page. */
const NEAR_END_PX = 80;

const numbers = new Intl.NumberFormat('en');
const keyOf = (user) => user.toLowerCase();
const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });

/** How many people are read at once. */
const pageSize = () => Math.min(MAX_PAGE, state.namesAtOnce || PAGE);

/** "1,234 people here", "1 person here". */
const hereLabel = (n) => `${numbers.format(n)} ${n === 1 ? 'person' : 'people'} here`;

/**
 * Where the row of lower-case name `key` is in `rows` (sorted by it):
 * {found, at}, `at` being where it would go when not found.
 */
function locate(rows, key) {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const k = keyOf(rows[mid].user);
    if (k === key) return { found: true, at: mid };
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, at: lo };
}

/**
 * people: {page(name, {after, limit}), bans(name), users(prefix),
 * invite(name, user), setRole(name, user, role), remove(name, user),
 * liftBan(name, user)}, each a promise that throws an Error with the
 * server's message. visible(): whether the panel is on screen.
 */
export function initMembers(people, { visible }) {
  const list = $('member-list');
  const title = $('members-title');
  const count = $('members-count');
  const toggle = $('members-toggle');
  const here = $('channel-people');
  const hereNumber = $('channel-people-count');
  const error = $('members-error');
  const status = $('members-status');
  const more = $('members-more');
  const scroller = list.closest('.members-scroll');
  const inviteForm = $('invite-form');
  const banList = $('ban-list');
  const bansTitle = $('bans-title');

  // The rows read for channel `name`, by lower-case name: {user, role,
  // online, kept} (`kept`: listed when not present, so one who leaves stays,
  // offline); `next`: the `after` of the page past them, null when every
  // page is in; `bans`: [{user, by}] for those who may see them.
  let held = { name: null, rows: [], next: null, bans: [], read: false };
  let asked = 0; // the number of the latest reading from the first page; older answers are dropped
  let inflight = null; // {n, moves: [[joins, leaves]]}: a reading again, and the batches that came meanwhile
  let paging = false; // a next page on its way
  let lastRead = 0; // when the list was last read from its first page (epoch ms)
  let timer = null; // a reading again that waits its turn
  let due = false; // one was due while another reading was on its way
  let wantMore = false; // the next page was asked for while the list was being read again
  let tailStale = false; // a batch could not name everyone: there may be rows past those held
  let nodes = new Map(); // lower-case name -> {sig, el}: the rows rendered
  let armed = null; // {key, timer}: a removal waiting for its second press
  let managing = false; // whether the controls were shown for the active channel

  /** Whether the list is shown for the active channel. */
  const showing = () => !!state.active && visible();
  /**
   * Whether the list of the active channel may be read: the channel was
   * joined (so the first page has us in it, and pages are as long as the
   * names the server tells at once).
   */
  const readable = () => showing() && memberCount(state.active) !== null;
  /** Whether one who is not here is listed in `name` only with a role: in a public channel. */
  const publicRoom = (name) => !isPrivate(name) && !isDm(name);
  /** Whether a row stays, offline, once its person leaves. */
  const keeps = (name, role, online) => !publicRoom(name) || role !== 'member' || !online;

  /** Applies who came and went to `rows` (read up to `next`). */
  function applyMoves(name, rows, next, joins, leaves) {
    for (const user of leaves) {
      const { found, at } = locate(rows, keyOf(user));
      if (!found) continue;
      if (rows[at].kept) rows[at] = { ...rows[at], online: false };
      else rows.splice(at, 1);
    }
    for (const user of joins) {
      const key = keyOf(user);
      const { found, at } = locate(rows, key);
      if (found) rows[at] = { ...rows[at], online: true };
      // Past the pages read, they come with the page they are on.
      else if (next === null || key < next) rows.splice(at, 0, { user, role: 'member', online: true, kept: !publicRoom(name) });
    }
  }

  /**
   * Learns our role from the rows, when they reach as far as our name (in a
   * public channel, "member" may only mean present: it tells nothing).
   */
  function learnOurRole(name, rows, next) {
    if (!state.me) return;
    const key = keyOf(state.me);
    const { found, at } = locate(rows, key);
    if (found && !(publicRoom(name) && rows[at].role === 'member')) learnRole(name, rows[at].role);
    else if (!found && (next === null || key < next)) learnRole(name, null);
  }

  /**
   * Reads the list again from its first page, as far as the rows held (at
   * least a page, at most REREAD_MAX), and (for those who may see it) the
   * banned list; `fresh`: the rows held are dropped first.
   */
  async function reread({ fresh = false } = {}) {
    const name = state.active;
    if (!name) return;
    clearTimeout(timer);
    timer = null;
    if (fresh || held.name !== name) {
      held = { name, rows: [], next: null, bans: [], read: false };
      tailStale = false;
      render();
    }
    const n = ++asked;
    const flight = { n, moves: [] };
    inflight = flight;
    if (!held.read) showText(status, 'Loading…');
    // As far as the rows held; when they were all there is, a page further, to see the end again.
    const span = Math.min(REREAD_MAX, Math.max(pageSize(), held.rows.length + (held.read && held.next === null ? pageSize() : 0)));
    const withBans = canManage(name) && publicRoom(name);
    let got = [];
    let after = null;
    let bans = [];
    try {
      const banned = withBans ? people.bans(name) : Promise.resolve([]);
      banned.catch(() => {}); // said below, once the pages are in
      do {
        const page = await people.page(name, { after, limit: Math.min(MAX_PAGE, span - got.length) });
        got = got.concat(page.members);
        after = page.next;
      } while (after && got.length < span && n === asked);
      bans = await banned;
    } catch (err) {
      if (n === asked && state.active === name) {
        showText(status, '');
        showText(error, err.message);
      }
      wantMore = false;
      return;
    } finally {
      if (inflight === flight) inflight = null;
      lastRead = Date.now();
      settle();
    }
    if (n !== asked || state.active !== name) {
      wantMore = false;
      return;
    }
    let rows = got.map(({ user, role, online }) => ({ user, role, online, kept: keeps(name, role, online) }));
    let next = after;
    if (after !== null) {
      // Rows held past those read again stay as they are, with the page they were on.
      const last = rows.length ? keyOf(rows[rows.length - 1].user) : '';
      const beyond = held.rows.filter((r) => keyOf(r.user) > last);
      if (beyond.length) {
        rows = rows.concat(beyond);
        next = held.next ?? (tailStale ? keyOf(beyond[beyond.length - 1].user) : null);
      }
    }
    for (const [joins, leaves] of flight.moves) applyMoves(name, rows, next, joins, leaves);
    held = { name, rows, next, bans, read: true };
    if (next === null) tailStale = false;
    showText(status, '');
    membersRead(name);
    learnOurRole(name, rows, next);
    render();
    if (wantMore) {
      wantMore = false;
      loadMore();
    }
  }

  /** The next page, after the rows held. */
  async function loadMore() {
    const name = held.name;
    if (!name || name !== state.active || held.next === null || paging) return;
    if (inflight) {
      wantMore = true; // once the reading in progress is in
      return;
    }
    paging = true;
    const n = asked;
    const after = held.next;
    showText(status, 'Loading…');
    const focused = document.activeElement === more;
    try {
      const page = await people.page(name, { after, limit: pageSize() });
      if (n !== asked || held.name !== name || held.next !== after) return;
      for (const { user, role, online } of page.members) {
        const { found, at } = locate(held.rows, keyOf(user));
        const row = { user, role, online, kept: keeps(name, role, online) };
        if (found) held.rows[at] = row;
        else held.rows.splice(at, 0, row);
      }
      held.next = page.next;
      if (page.next === null) tailStale = false;
      showText(status, '');
      learnOurRole(name, held.rows, held.next);
      render();
      // The button goes with the last page: the focus goes to the list it filled.
      if (focused && more.hidden) list.focus();
    } catch (err) {
      if (n === asked && state.active === name) {
        showText(status, '');
        showText(error, err.message);
      }
    } finally {
      paging = false;
      settle();
    }
  }

  /** A reading that was due while another was on its way goes now (in its turn). */
  function settle() {
    if (!due) return;
    due = false;
    schedule();
  }

  /** Reads the list again in its turn: at most once every REREAD_MS, only while it is shown. */
  function schedule() {
    if (timer || !showing() || held.name !== state.active) return;
    const wait = Math.max(0, lastRead + REREAD_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      if (!readable()) return;
      if (inflight || paging) due = true;
      else reread();
    }, wait);
  }

  /** Runs one of the controls' requests: the panel says what went wrong, and reads the people again. */
  async function act(run) {
    showText(error, '');
    try {
      await run();
    } catch (err) {
      showText(error, err.message);
    }
    await reread();
  }

  function disarm() {
    if (!armed) return;
    clearTimeout(armed.timer);
    armed = null;
  }

  /** A button that acts on the second press only ("Ban" becomes "Confirm ban"). */
  function guarded(key, label, ariaLabel, run) {
    const isArmed = armed && armed.key === key;
    return h('button', {
      type: 'button',
      class: isArmed ? 'member-action is-danger is-armed' : 'member-action is-danger',
      'aria-label': isArmed ? `Confirm: ${ariaLabel}` : ariaLabel,
      text: isArmed ? `Confirm ${label.toLowerCase()}` : label,
      onclick: () => {
        if (armed && armed.key === key) {
          disarm();
          act(run);
          return;
        }
        disarm();
        armed = { key, timer: setTimeout(() => { armed = null; render(); }, ARMED_MS) };
        render();
        const again = list.querySelector('.is-armed') || banList.querySelector('.is-armed');
        if (again) again.focus();
      },
    });
  }

  function action(label, ariaLabel, run) {
    return h('button', { type: 'button', class: 'member-action', 'aria-label': ariaLabel, text: label, onclick: () => act(run) });
  }

  /** The controls the caller has over `user` (whose role there is `role`) in channel `name`. */
  function controls(name, user, role) {
    if (!canManage(name) || isMe(user) || role === 'owner') return null;
    const mine = roleOf(name);
    const out = [];
    if (role === 'moderator') {
      if (mine !== 'owner') return null; // only the owner changes or removes a moderator
      out.push(action('Make member', `Make ${user} a member`, () => people.setRole(name, user, 'member')));
    } else {
      out.push(action('Make moderator', `Make ${user} a moderator`, () => people.setRole(name, user, 'moderator')));
    }
    const removal = isPrivate(name) ? 'Remove' : 'Ban';
    const says = isPrivate(name) ? `Remove ${user} from #${name}` : `Ban ${user} from #${name}`;
    out.push(guarded(`remove:${user}`, removal, says, () => people.remove(name, user)));
    return h('span', { class: 'member-actions' }, out);
  }

  function personRow(name, user, role, present) {
    return h('li', { class: present ? 'member is-present' : 'member' },
      h('span', { class: 'member-avatar' }, avatar(user, 'sm'),
        present ? h('span', { class: 'presence-dot', title: 'Here now' }) : null),
      h('span', { class: 'member-who' },
        h('span', { class: 'member-name', text: user }),
        isMe(user) ? h('span', { class: 'member-you', text: '(you)' }) : null,
        role === 'owner' || role === 'moderator' ? h('span', { class: `role-badge role-${role}`, text: role }) : null,
        present ? h('span', { class: 'visually-hidden', text: 'here now' }) : null),
      controls(name, user, role));
  }

  function renderBans(name) {
    const show = !!name && canManage(name) && publicRoom(name) && held.name === name && held.bans.length > 0;
    bansTitle.hidden = !show;
    banList.hidden = !show;
    if (!show) {
      banList.replaceChildren();
      return;
    }
    const bans = [...held.bans].sort((a, b) => byName(a.user, b.user));
    banList.replaceChildren(...bans.map(({ user, by }) => h('li', { class: 'member is-banned' },
      h('span', { class: 'member-avatar' }, avatar(user, 'sm')),
      h('span', { class: 'member-who' },
        h('span', { class: 'member-name', text: user }),
        typeof by === 'string' && by ? h('span', { class: 'member-by', text: `by ${by}` }) : null),
      h('span', { class: 'member-actions' },
        action('Lift ban', `Lift the ban of ${user}`, () => people.liftBan(name, user))))));
  }

  /** How many are present: in the header, on the members button and over the list. */
  function renderCount() {
    const name = state.active;
    const n = name ? memberCount(name) : null;
    if (n === null) {
      here.hidden = true;
      count.textContent = '';
      toggle.setAttribute('aria-label', 'Members');
      title.textContent = 'Members';
      return;
    }
    const label = hereLabel(n);
    here.hidden = false;
    here.setAttribute('aria-label', label);
    here.title = label;
    hereNumber.textContent = numbers.format(n);
    count.textContent = numbers.format(n);
    toggle.setAttribute('aria-label', `Members, ${label}`);
    title.textContent = `Members — ${numbers.format(n)} here`;
  }

  /**
   * Renders the rows held, building again only those that changed; a
   * rebuilt row keeps the focus on the control it was on (same label).
   */
  function render() {
    const name = state.active;
    const rows = name && held.name === name ? held.rows : [];
    renderCount();
    const keep = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute('aria-label') : null;
    const common = `${canManage(name)}|${roleOf(name)}|${isPrivate(name)}|${state.me}`;
    const built = new Map();
    const els = rows.map(({ user, role, online }) => {
      const key = keyOf(user);
      const sig = `${common}|${user}|${role}|${online}|${!!armed && armed.key === `remove:${user}`}`;
      let node = nodes.get(key);
      if (!node || node.sig !== sig || built.has(key)) node = { sig, el: personRow(name, user, role, online) };
      built.set(key, node);
      return node.el;
    });
    nodes = built;
    let at = list.firstChild;
    for (const el of els) {
      if (el === at) at = at.nextSibling;
      else list.insertBefore(el, at);
    }
    while (at) {
      const after = at.nextSibling;
      at.remove();
      at = after;
    }
    if (keep && !list.contains(document.activeElement)) {
      const again = [...list.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === keep);
      if (again) again.focus();
    }
    more.hidden = !(name && held.name === name && held.next !== null);
    inviteForm.hidden = !(name && canManage(name) && isPrivate(name));
    renderBans(name);
  }

  const invite = createPicker({
    input: $('invite-input'),
    list: $('invite-suggestions'),
    status: $('invite-status'),
    search: people.users,
    exclude: () => (state.active && held.name === state.active ? held.rows.map((r) => r.user) : []),
    choose: async (user) => {
      const name = state.active;
      await people.invite(name, user);
      invite.say(`${user} was invited.`);
      await reread();
    },
  });
  inviteForm.addEventListener('submit', (ev) => ev.preventDefault());
  more.addEventListener('click', () => loadMore());
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - NEAR_END_PX) loadMore();
  }, { passive: true });

  return {
    render(topics) {
      if (topics.has('active')) {
        disarm();
        showText(error, '');
        showText(status, '');
        invite.reset();
        clearTimeout(timer);
        timer = null;
        held = { name: null, rows: [], next: null, bans: [], read: false };
        managing = !!state.active && canManage(state.active);
        render();
        if (readable()) reread({ fresh: true });
        else if (showing()) showText(status, 'Loading…');
        return;
      }
      const manageNow = !!state.active && canManage(state.active);
      if (manageNow !== managing || topics.has('roles')) {
        // Our role changed: the controls (and what we may read) change with it.
        managing = manageNow;
        render();
        if (readable()) reread();
        return;
      }
      if (topics.has('members') || topics.has('me')) renderCount();
      // The channel opened before it was joined: its list is read once it is.
      if (topics.has('members') && held.name !== state.active && readable()) reread({ fresh: true });
    },

    /** A presence batch of channel `name` (the store has applied it). */
    presence(name, joins, leaves, moreThanNamed) {
      if (name !== state.active || held.name !== name || !showing()) return;
      if (moreThanNamed) tailStale = true;
      if (inflight) inflight.moves.push([joins, leaves]);
      // Before the first page is in, there is nothing to apply them to.
      if (held.read) {
        applyMoves(name, held.rows, held.next, joins, leaves);
        render();
      }
      schedule();
    },

    /** Channel `name` was joined again after a reconnect: what came and went meanwhile is read again soon. */
    rejoined(name) {
      if (name === state.active && held.name === name) schedule();
    },

    /** The panel was shown or hidden. */
    shown(isShown) {
      if (!isShown) {
        clearTimeout(timer);
        timer = null;
        return;
      }
      if (readable()) reread({ fresh: held.name !== state.active });
      else if (state.active) showText(status, 'Loading…');
    },
  };
}
