/**
 * A small SVG bar chart (no dependency): one group per metric, one bar per
 * subject, heights as ratios to a baseline subject.
 */

/** One metric's ratios per subject. */
export interface ChartGroup {
  readonly label: string;
  readonly ratios: Readonly<Record<string, number>>;
}

const COLORS = ['#3a66d1', '#2e8b57', '#c98a14', '#b03a2e', '#7a4fc9', '#555'];

const escapeXml = (s: string): string => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Renders grouped bars; a dashed line marks 1.0 (the baseline). */
export function barChart(
  title: string,
  subjects: readonly string[],
  groups: readonly ChartGroup[],
): string {
  const barW = 18;
  const gap = 26;
  const groupW = subjects.length * barW + gap;
  const height = 260;
  const top = 40;
  const bottom = 70;
  const left = 50;
  const width = left + groups.length * groupW + 20;
  const max = Math.max(
    1.2,
    ...groups.flatMap((g) => Object.values(g.ratios).filter(Number.isFinite)),
  );
  const y = (v: number): number => top + (height - top - bottom) * (1 - v / max);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 20 * Math.ceil(subjects.length / 3)}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${left}" x2="${width - 10}" y1="${y(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${left - 6}" y="${y(1) + 4}" text-anchor="end">1.0</text>`,
    `<text x="${left - 6}" y="${y(max) + 4}" text-anchor="end">${max.toFixed(1)}</text>`,
  ];
  groups.forEach((group, gi) => {
    const x0 = left + gi * groupW + gap / 2;
    subjects.forEach((subject, si) => {
      const v = group.ratios[subject];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = x0 + si * barW;
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${barW - 3}" height="${y(0) - y(v)}" fill="${COLORS[si % COLORS.length] ?? '#555'}"><title>${escapeXml(`${subject}: ${v.toFixed(2)}x`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${x0 + (subjects.length * barW) / 2}" y="${y(0) + 14}" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  subjects.forEach((subject, si) => {
    const x = left + (si % 3) * 180;
    const yy = height + 5 + Math.floor(si / 3) * 18;
    parts.push(
      `<rect x="${x}" y="${yy - 9}" width="10" height="10" fill="${COLORS[si % COLORS.length] ?? '#555'}"/>`,
    );
    parts.push(`<text x="${x + 14}" y="${yy}">${escapeXml(subject)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
