// A small line chart as inline SVG, built here with no library: one line
// through the values (oldest first), the area under it, and a dashed line
// at the first value to read the change against. It stretches to the width
// it is given (viewBox, width 100%) while its strokes keep their width, and
// takes its colour from the CSS (currentColor), so it follows the theme.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 100;
/** Room kept above and below the line so that the stroke is never cut. */
const PAD = 4;

function el(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

const round = (v) => Math.round(v * 100) / 100;

/**
 * An <svg role="img"> of `values` (at least one number), named by `label`
 * (what a screen reader says instead of the picture).
 */
export function lineChart(values, { label, className = 'chart' }) {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i) => (values.length > 1 ? round((i / (values.length - 1)) * WIDTH) : WIDTH / 2);
  const y = (v) => (max === min ? HEIGHT / 2 : round(PAD + ((max - v) / span) * (HEIGHT - 2 * PAD)));
  const points = values.map((v, i) => `${x(i)},${y(v)}`);
  const line = values.length > 1 ? points.join(' ') : `0,${y(values[0])} ${WIDTH},${y(values[0])}`;

  const svg = el('svg', {
    class: className,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    width: '100%',
    role: 'img',
    'aria-label': label,
    focusable: 'false',
  });
  const title = el('title');
  title.textContent = label;
  const firstY = y(values[0]);
  svg.append(
    title,
    el('polygon', { class: 'chart-area', points: `0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}` }),
    el('line', { class: 'chart-base', x1: 0, y1: firstY, x2: WIDTH, y2: firstY, 'vector-effect': 'non-scaling-stroke' }),
    el('polyline', { class: 'chart-line', points: line, 'vector-effect': 'non-scaling-stroke', 'data-count': values.length }),
  );
  return svg;
}
