// Light formatting of message text, built as DOM nodes from text (never as
// markup): **bold**, _italic_ (underscores at word boundaries, so that
// snake_case_names stay as written), `code`, fenced code blocks (``` lines,
// a language word after the opening one ignored), http(s) links,
// @mentions of the people the message names and cashtags ($AAPL,
// $aapl.us) as chips that show the quote. Inside code nothing is
// formatted; everything else is the text as written.

import { h } from './dom.js';

const FENCE_OPEN = /^```[\w+#.-]*$/;
const FENCE_CLOSE = /^```$/;
/** A code span or a link, whichever starts first: neither is inside the other. */
const ATOM_RE = /`([^`\n]+)`|(?<![\p{L}\p{N}])https?:\/\/[^\s<>"'`]+/gu;
/** Punctuation that ends a sentence (or closes emphasis) rather than a link. */
const LINK_TAIL = /[.,!?;:)\]*_]+$/;
/** Emphasis stays on one line and neither starts nor ends with a space. */
const BOLD_RE = /\*\*(?=[^\s*])[^\n]*?[^\s*]\*\*/gu;
const ITALIC_RE = /(?<![\p{L}\p{N}_])_(?=[^\s_])[^\n]*?[^\s_]_(?![\p{L}\p{N}_])/gu;
const EMPHASIS = [{ tag: 'strong', re: BOLD_RE, mark: 2 }, { tag: 'em', re: ITALIC_RE, mark: 1 }];
/** `@name` as the server reads a mention: not after a letter, digit or `_`. */
const MENTION_RE = /(?<![A-Za-z0-9_])@([A-Za-z0-9_]+)/g;
/**
 * `$` not after a letter, digit, `_` or `$`; a letter, up to 9 letters,
 * digits or `-`; maybe `.` and a market of 1-4 letters; then no letter,
 * digit or `_` (so `$5`, `$93.42` and `US$5` are none).
 */
const CASHTAG_RE = /(?<![A-Za-z0-9_$])\$([A-Za-z][A-Za-z0-9-]{0,9}(?:\.[A-Za-z]{1,4})?)(?![A-Za-z0-9_])/g;

function isWebUrl(url) {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/**
 * The code spans and links of `text`, in order: [{start, end, node()}].
 * Emphasis never cuts through one.
 */
function atomsOf(text) {
  const atoms = [];
  for (const match of text.matchAll(ATOM_RE)) {
    const start = match.index;
    if (match[1] !== undefined) {
      atoms.push({ start, end: start + match[0].length, node: () => h('code', { text: match[1] }) });
      continue;
    }
    const url = match[0].replace(LINK_TAIL, '');
    if (!isWebUrl(url)) continue;
    atoms.push({
      start,
      end: start + url.length,
      node: () => h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }),
    });
  }
  return atoms;
}

/**
 * The `@name`s of `text` naming someone in `mentions` (lower case), outside
 * code spans and links, as atoms: `me` (lower case) is marked as such.
 */
function mentionAtoms(text, atoms, { mentions, me }) {
  const out = [];
  for (const match of text.matchAll(MENTION_RE)) {
    const name = match[1].toLowerCase();
    const start = match.index;
    const end = start + match[0].length;
    if (!mentions.includes(name) || atoms.some((a) => start < a.end && end > a.start)) continue;
    const mine = !!me && name === me;
    out.push({ start, end, node: () => h('span', { class: mine ? 'mention mention-me' : 'mention', text: match[0] }) });
  }
  return out;
}

/** The stock code a cashtag names: lower case, `.us` when it names no market. */
export const cashtagCode = (tag) => {
  const code = tag.toLowerCase();
  return code.includes('.') ? code : `${code}.us`;
};

/**
 * A chip for stock `code` showing `label`: hovering, clicking or pressing
 * Enter on it shows the quote (cashtag.js, for every chip of the page).
 */
export function cashtagChip(label, code) {
  return h('button', {
    type: 'button',
    class: 'cashtag',
    'data-code': code,
    'aria-expanded': 'false',
    'aria-label': `${label}: show the ${code.toUpperCase()} quote`,
    text: label,
  });
}

/** The cashtags of `text` outside code spans and links, as atoms. */
function cashtagAtoms(text, atoms) {
  const out = [];
  for (const match of text.matchAll(CASHTAG_RE)) {
    const start = match.index;
    const end = start + match[0].length;
    if (atoms.some((a) => start < a.end && end > a.start)) continue;
    out.push({ start, end, node: () => cashtagChip(match[0], cashtagCode(match[1])) });
  }
  return out;
}

const inAtom = (atoms, i) => atoms.some((a) => i >= a.start && i < a.end);

/** The first bold or italic run inside [from, to) whose marks are outside every atom. */
function nextEmphasis(text, from, to, atoms) {
  let best = null;
  for (const { tag, re, mark } of EMPHASIS) {
    re.lastIndex = from;
    for (let m = re.exec(text); m && m.index < to; m = re.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      const marks = [start, start + mark - 1, end - mark, end - 1];
      if (end <= to && !marks.some((i) => inAtom(atoms, i))) {
        if (!best || start < best.start) best = { tag, start, end, mark };
        break;
      }
      re.lastIndex = start + 1;
    }
  }
  return best;
}

/** Text of [from, to) with the atoms wholly inside it. */
function plain(text, from, to, atoms) {
  const out = [];
  let at = from;
  for (const a of atoms) {
    if (a.start < at || a.end > to) continue;
    out.push(text.slice(at, a.start), a.node());
    at = a.end;
  }
  out.push(text.slice(at, to));
  return out.filter((part) => part !== '');
}

/** [from, to) with its emphasis, nested as written. */
function emphasis(text, from, to, atoms) {
  const out = [];
  let at = from;
  for (let found = nextEmphasis(text, at, to, atoms); found; found = nextEmphasis(text, at, to, atoms)) {
    out.push(...plain(text, at, found.start, atoms));
    out.push(h(found.tag, {}, emphasis(text, found.start + found.mark, found.end - found.mark, atoms)));
    at = found.end;
  }
  out.push(...plain(text, at, to, atoms));
  return out;
}

/** Text outside code blocks: code spans, links, mentions and cashtags, then bold and italic around them. */
function inline(text, who) {
  const atoms = atomsOf(text);
  const named = who.mentions.length ? mentionAtoms(text, atoms, who) : [];
  const tags = text.includes('$') ? cashtagAtoms(text, atoms) : [];
  const all = named.length || tags.length ? [...atoms, ...named, ...tags].sort((a, b) => a.start - b.start) : atoms;
  return emphasis(text, 0, text.length, all);
}

/**
 * The nodes showing a message's text. Newlines stay in the text (the
 * message shows them, white-space: pre-wrap); a code block is a <pre>
 * between the lines before and after it. `mentions`: the message's
 * (lower-case names), shown as mentions where written as `@name`; `me`,
 * our name, marks ours.
 */
export function formatted(text, { mentions, me } = {}) {
  const who = {
    mentions: Array.isArray(mentions) ? mentions.filter((n) => typeof n === 'string') : [],
    me: typeof me === 'string' ? me.toLowerCase() : '',
  };
  const out = [];
  const lines = text.split('\n');
  let prose = [];
  const flush = () => {
    if (prose.length) out.push(...inline(prose.join('\n'), who));
    prose = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const close = FENCE_OPEN.test(lines[i].trim())
      ? lines.findIndex((line, j) => j > i && FENCE_CLOSE.test(line.trim()))
      : -1;
    if (close < 0) {
      prose.push(lines[i]);
      continue;
    }
    flush();
    out.push(h('pre', { class: 'code-block' }, h('code', { text: lines.slice(i + 1, close).join('\n') })));
    i = close;
  }
  flush();
  return out;
}
