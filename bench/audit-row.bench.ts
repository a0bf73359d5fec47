/**
 * What making one audit row's copy of a result costs (secrets redacted, fields hashed, the size
 * checked), for results of the shapes tools give: a short text, and JSON answers of about 2 kB
 * and 20 kB written both as text and as structuredContent (`jsonResult`). Side by side, in one
 * run: the row as it is made now (the JSON text parsed and redacted like the structured copy)
 * and as it was made before that (the text kept as it came).
 *
 *   npm run bench -- audit-row
 */
import { auditedResponse, auditedValue, DEFAULT_MAX_AUDIT_RESPONSE_BYTES } from '@brainmesh/shared';
import { markdownTable, num } from './support/table.js';

const contact = (i: number) => ({
  id: `c${i}`,
  name: `Contact ${i}`,
  email: `contact${i}@example.com`,
  phone: '+1 555 0100',
  tags: ['lead', 'web'],
  source: 'website',
  dateAdded: '2026-11-02T09:00:00.000Z',
});
const json = (n: number) => {
  const value = { source: 'sample', total: n, contacts: Array.from({ length: n }, (_, i) => contact(i)) };
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
};
const SHAPES: [string, unknown][] = [
  ['short text (an echo)', { content: [{ type: 'text', text: 'Echo: hello' }] }],
  ['JSON, ~2 kB', json(8)],
  ['JSON, ~20 kB', json(80)],
];
const policy = { hash: ['email'] };

/** How the row's copy was made before JSON texts were redacted: the value alone, then its size. */
function before(value: unknown): unknown {
  const kept = auditedValue(value, policy);
  const bytes = Buffer.byteLength(JSON.stringify(kept) ?? '');
  return bytes <= DEFAULT_MAX_AUDIT_RESPONSE_BYTES ? kept : { truncated: true, bytes };
}

function microsPerCall(fn: () => unknown, ms: number): number {
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  return ((performance.now() - started) / n) * 1000;
}

const rows: string[][] = [];
for (const [label, value] of SHAPES) {
  const bytes = JSON.stringify(value).length;
  // Warm both, then interleave rounds so the machine's drift falls on both alike.
  microsPerCall(() => before(value), 300);
  microsPerCall(() => auditedResponse(value, policy), 300);
  const now: number[] = [];
  const old: number[] = [];
  for (let round = 0; round < 5; round++) {
    old.push(microsPerCall(() => before(value), 400));
    now.push(microsPerCall(() => auditedResponse(value, policy), 400));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  rows.push([label, String(bytes), num(median(old), 1), num(median(now), 1), num(median(now) / median(old), 2)]);
}
console.log(markdownTable(['result', 'bytes', 'before µs', 'now µs', 'now ÷ before'], rows));
