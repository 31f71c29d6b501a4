import { describe, expect, it } from 'vitest';
import { createRng, sampleEvent } from './sample-traffic.ts';

const generate = (n: number, seed: number, options = {}) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => sampleEvent(i, rng, options));
};

describe('sampleEvent', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generate(50, 7).map((e) => e.body.toString());
    const b = generate(50, 7).map((e) => e.body.toString());
    const c = generate(50, 8).map((e) => e.body.toString());
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('produces API-gateway JSON of about 1 KB with nested user, headers map and tags array', () => {
    const events = generate(1000, 1, { nonJsonShare: 0 });
    for (const e of events) {
      expect(JSON.parse(e.body.toString())).toEqual(e.json);
      const j = e.json!;
      expect(typeof j.timestamp).toBe('string');
      expect(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']).toContain(j.method);
      expect(j.path.startsWith('/')).toBe(true);
      expect(j.status).toBeGreaterThanOrEqual(200);
      expect(j.latencyMs).toBeGreaterThan(0);
      expect(j.user.id).toMatch(/^u-\d+$/);
      expect(typeof j.headers['user-agent']).toBe('string');
      expect(Array.isArray(j.tags)).toBe(true);
    }
    const mean = events.reduce((n, e) => n + e.body.length, 0) / events.length;
    expect(mean).toBeGreaterThan(700);
    expect(mean).toBeLessThan(1300);
  });

  it('adds the late field only after newFieldAfter, in about the requested share', () => {
    const events = generate(4000, 3, { newFieldAfter: 2000, newFieldShare: 0.25, nonJsonShare: 0 });
    expect(events.slice(0, 2000).some((e) => e.json!.geo !== undefined)).toBe(false);
    const later = events.slice(2000).filter((e) => e.json!.geo !== undefined).length / 2000;
    expect(later).toBeGreaterThan(0.2);
    expect(later).toBeLessThan(0.3);
  });

  it('emits the requested share of non-JSON bodies', () => {
    const events = generate(4000, 4, { nonJsonShare: 0.1 });
    const text = events.filter((e) => e.json === undefined);
    expect(text.length / 4000).toBeGreaterThan(0.08);
    expect(text.length / 4000).toBeLessThan(0.12);
    for (const e of text) expect(() => JSON.parse(e.body.toString())).toThrow();
  });
});
