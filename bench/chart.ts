// The seed table as an SVG line chart: producers across (as categories), msg/s up, one line per client.
// Plain SVG text: a chart of a dozen lines needs no charting library, and the file must render on GitHub.

const PALETTE = ['#1b9e77', '#66a61e', '#0b6e4f', '#7570b3', '#a6a0e0', '#d95f02', '#e7298a', '#e6ab02', '#a6761d',
  '#666666', '#000000', '#1f78b4', '#b2df8a', '#fb9a99', '#cab2d6'];

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `series`: client name to msg/s per producer count (a missing count leaves a gap). */
export function seedChart(title: string, counts: number[], series: Record<string, Record<number, number>>): string {
  const [w, h, left, top, plotW, plotH] = [980, 460, 70, 40, 520, 360];
  const max = Math.max(...Object.values(series).flatMap((s) => Object.values(s)));
  const step = 10 ** Math.floor(Math.log10(max / 4));
  const yMax = Math.ceil(max / step / 4) * step * 4;
  const x = (i: number): number => left + (plotW * (i + 0.5)) / counts.length;
  const y = (v: number): number => top + plotH - (plotH * v) / yMax;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${(v / 1000).toLocaleString('en-US')}k</text>`);
  }
  counts.forEach((n, i) => out.push(`<text x="${x(i)}" y="${top + plotH + 18}" text-anchor="middle">${n}</text>`));
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">producers in one process</text>`,
    `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">msg/s (acks=all)</text>`);
  Object.entries(series).forEach(([name, s], k) => {
    const color = PALETTE[k % PALETTE.length];
    const dash = name.includes('[peer librdkafka]') ? ' stroke-dasharray="5 3"' : '';
    const pts = counts.map((n, i) => (s[n] === undefined ? undefined : `${x(i).toFixed(1)},${y(s[n]).toFixed(1)}`));
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.filter(Boolean).join(' ')}"/>`);
    for (const p of pts) if (p) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${color}"/>`);
    const ly = top + 10 + k * 20;
    out.push(`<line x1="${left + plotW + 20}" x2="${left + plotW + 44}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${left + plotW + 50}" y="${ly + 4}">${escape(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
