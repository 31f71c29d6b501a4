const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** A ~`size`-byte JSON event with a unique id, realistic-ish field variety (compresses ~5–8×). */
export function jsonEvent(i: number, size = 1024): Buffer {
  let x = (i * 2654435761) >>> 0;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const base = {
    id: `e-${i}`,
    ts: new Date(Date.UTC(2026, 0, 1) + i * 7).toISOString(),
    user: {
      id: Math.floor(next() * 1e6),
      plan: WORDS[Math.floor(next() * 4)],
      country: WORDS[Math.floor(next() * 10)],
    },
    method: next() < 0.7 ? 'GET' : 'POST',
    path: `/api/v1/${WORDS[Math.floor(next() * 10)]}/${Math.floor(next() * 1e5)}`,
    status: next() < 0.9 ? 200 : 500,
    latencyMs: Math.round(next() * 5000) / 10,
    tags: [WORDS[Math.floor(next() * 10)], WORDS[Math.floor(next() * 10)]],
    note: '',
  };
  const text = JSON.stringify(base);
  let note = '';
  while (note.length < size - text.length)
    note += `${WORDS[Math.floor(next() * 10)]} ${Math.floor(next() * 1000)} `;
  base.note = note.slice(0, Math.max(0, size - text.length));
  return Buffer.from(JSON.stringify(base));
}
