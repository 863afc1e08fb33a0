// Avatars: a colored circle with the user's initial. The color comes from a
// hash of the name and is one of a fixed palette of CSS classes.

const PALETTE_SIZE = 8;

function hash(text) {
  let h = 2166136261;
  for (const ch of text.toLowerCase()) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

export function colorClass(name) {
  return `color-${hash(name) % PALETTE_SIZE}`;
}

export function avatar(name, size = 'md') {
  const el = document.createElement('span');
  el.className = `avatar avatar-${size} ${colorClass(name)}`;
  el.setAttribute('aria-hidden', 'true');
  el.textContent = ([...name][0] || '?').toUpperCase();
  return el;
}
