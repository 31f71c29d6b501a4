import { TopicConfig } from '@hubcap/shared';
import { configWithoutSecrets } from '@hubcap/shared/testing';
import { describe, expect, it } from 'vitest';
import type { ConfigError } from './config.ts';
import { ConfigWatcher } from './config-watcher.ts';

const config = (topic = 'orders', maxAgeSeconds = 60) => {
  const base = configWithoutSecrets(topic);
  return { ...base, batching: { ...base.batching, maxAgeSeconds } };
};

function watcher(answers: { version: number; config: unknown }[]) {
  const rejected: { version: number; error: ConfigError }[] = [];
  const failed: Error[] = [];
  const deferred: { version: number; reason: string }[] = [];
  let fetches = 0;
  const w = new ConfigWatcher({
    fetch: async () => {
      fetches++;
      const answer = answers.shift();
      if (!answer) throw new Error('control plane down');
      return answer;
    },
    running: { version: 3, config: TopicConfig.parse(config()) },
    subject: 'config from cp',
    onRejected: (version, error) => rejected.push({ version, error }),
    onDeferred: (version, reason) => deferred.push({ version, reason }),
    onFetchFailed: (error) => failed.push(error),
  });
  return { w, rejected, failed, deferred, fetches: () => fetches };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('ConfigWatcher', () => {
  it('ignores the running version and older ones, hands out a newer valid config once', async () => {
    const { w, fetches } = watcher([{ version: 4, config: config('orders', 30) }]);
    w.offer(3);
    w.offer(2);
    expect(fetches()).toBe(0);
    w.offer(4);
    const next = await w.next();
    expect(next.version).toBe(4);
    expect(next.config.batching.maxAgeSeconds).toBe(30);
    w.offer(4); // announced again while the switch drains: not fetched again
    await settle();
    expect(fetches()).toBe(1);
  });

  it('rejects an invalid version once, naming each problem, and keeps waiting for a valid one', async () => {
    const { w, rejected, fetches } = watcher([
      { version: 5, config: { ...config(), batching: { maxAgeSeconds: -1 } } },
      { version: 6, config: config() },
    ]);
    w.offer(5);
    await settle();
    w.offer(5);
    await settle();
    expect(fetches()).toBe(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.version).toBe(5);
    expect(rejected[0]!.error.problems.join('\n')).toMatch(/batching\.maxAgeSeconds/);
    w.offer(6);
    expect((await w.next()).version).toBe(6);
  });

  it('defers, once, a version this process cannot take in place (new file layout or limits)', async () => {
    const { w, deferred, fetches } = watcher([
      { version: 4, config: { ...config(), format: { type: 'avro' } } },
      { version: 5, config: { ...config(), scaling: { memory: '1Gi' } } },
      { version: 6, config: config('orders', 30) },
    ]);
    w.offer(4);
    await settle();
    w.offer(4);
    await settle();
    expect(fetches()).toBe(1);
    expect(deferred).toEqual([{ version: 4, reason: expect.stringMatching(/file layout changed/) }]);
    w.offer(5);
    await settle();
    expect(deferred[1]).toEqual({ version: 5, reason: expect.stringMatching(/memory limit changed/) });
    w.offer(6);
    expect((await w.next()).version).toBe(6);
  });

  it('refuses a config for another topic', async () => {
    const { w, rejected } = watcher([{ version: 4, config: config('clicks') }]);
    w.offer(4);
    await settle();
    expect(rejected[0]!.error.message).toMatch(/topic: is "clicks", this agent runs "orders"/);
  });

  it('retries a failed fetch on the next offer', async () => {
    const answers: { version: number; config: unknown }[] = [];
    const { w, failed, fetches } = watcher(answers);
    w.offer(4);
    await settle();
    expect(failed.map((e) => e.message)).toEqual(['control plane down']);
    answers.push({ version: 4, config: config('orders', 30) });
    w.offer(4);
    expect((await w.next()).version).toBe(4);
    expect(fetches()).toBe(2);
  });
});
