import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { oneFileManifest } from '@hubcap/lake/testing';
import { PATH_PRESETS } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../src/services/telemetry/alerts.ts';
import { createTopic } from '../src/services/topics/topics.ts';
import { topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let root: string;
beforeAll(async () => {
  api = await startHarness();
  root = await mkdtemp(join(tmpdir(), 'hubcap-grid-'));
}, 120_000);
afterAll(async () => {
  await api?.close();
  await rm(root, { recursive: true, force: true });
});

const hour = 3600_000;
const folder = (start: number) => {
  const t = new Date(start).toISOString();
  return `topic=clicks/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`;
};

async function put(path: string, bytes: Buffer | string) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), bytes);
}

async function manifest(
  partition: string,
  start: number,
  first: number,
  last: number,
  lost: [number, number][] = [],
) {
  const m = oneFileManifest({ topic: 'clicks', partition, start, first, last, lost });
  await put(`${folder(start)}/_hubcap/${partition}.manifest.json`, m);
}

/** A topic landing in a local folder with the Hive layout (hourly windows). */
const hiveTopic = (name: string, path: string) =>
  createTopic(
    api.prisma,
    api.secrets,
    topicConfig(name, { destination: { kind: 'localFolder', path }, pathTemplate: PATH_PRESETS.hive }),
    { actor: 'system' },
  );

describe('completeness.grid', () => {
  it('reads the last windows × partitions from the manifests and markers in the destination', async () => {
    const { id } = await hiveTopic('clicks', root);
    for (const partitionId of ['0', '1'])
      await api.prisma.partitionState.create({ data: { topicId: id, partitionId } });
    const now = Date.now();
    const [w1, w2, w3] = [3, 2, 1].map((n) => Math.floor(now / hour) * hour - n * hour) as [
      number,
      number,
      number,
    ];
    await manifest('0', w1, 0, 9);
    await manifest('1', w1, 0, 4);
    await put(`${folder(w1)}/_SUCCESS`, '{}');
    await manifest('0', w2, 10, 19, [[10, 12]]);
    await manifest('1', w2, 7, 9); // 5..6 are nowhere
    await manifest('0', w3, 20, 29);
    // Partition 1's manifest of w3 is hostile: it reads as open, never as an error.
    await put(`${folder(w3)}/_hubcap/1.manifest.json`, '{"version":1,"events":1e999,');

    const viewer = await api.signedIn('viewer');
    const res = await api.call('completeness.grid', { name: 'clicks', days: 1 }, { cookie: viewer });
    expect(res.status).toBe(200);
    const grid = res.body.result.data;
    expect(grid.window).toBe('hour');
    expect(grid.partitions).toEqual(['0', '1']);
    const byStart = new Map(grid.windows.map((w: { start: string }) => [Date.parse(w.start), w]));
    const states = (start: number) =>
      (byStart.get(start) as { cells: { state: string }[] }).cells.map((c) => c.state);
    expect(states(w1)).toEqual(['complete', 'complete']);
    expect(states(w2)).toEqual(['lost-at-source', 'gap']);
    expect(states(w3)).toEqual(['complete', 'open']);
    expect(byStart.get(w1)).toMatchObject({
      completedAt: expect.any(String),
      freshnessSeconds: expect.any(Number),
    });
    expect(byStart.get(w2)).toMatchObject({ completedAt: null, freshnessSeconds: null });
    // From the first window with data to the current one (nothing landed in it: empty).
    expect(grid.windows.length).toBe(4);
    expect(grid.windows[0].cells.map((c: { state: string }) => c.state)).toEqual(['empty', 'empty']);

    for (const days of [0, 8, 2 ** 53, '1', null]) {
      const bad = await api.call('completeness.grid', { name: 'clicks', days }, { cookie: viewer });
      expect(bad.status).toBe(400);
    }
    expect((await api.call('completeness.grid', { name: '../etc' }, { cookie: viewer })).status).toBe(400);
    expect((await api.call('completeness.grid', { name: 'nope' }, { cookie: viewer })).status).toBe(404);
  });
});

describe('window alert', () => {
  it('opens when the newest window past the threshold has no topic marker, and resolves once it has one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-window-alert-'));
    const { id } = await hiveTopic('views', dir);
    const now = new Date(Math.floor(Date.now() / hour) * hour + 10 * 60_000); // hh:10
    await api.prisma.topic.update({
      where: { id },
      data: { createdAt: new Date(now.getTime() - 48 * hour) },
    });
    await api.prisma.deployment.create({
      data: { topicId: id, target: 'local', phase: 'running', configVersion: 1, desiredReplicas: 1 },
    });
    // Threshold 90 min at hh:10: the newest window that ended before (hh-2):40 is (hh-3):00–(hh-2):00.
    const due = now.getTime() - 3 * hour - 10 * 60_000;
    const opened = await evaluateAlerts(api.prisma, api.secrets, { now });
    expect(opened.opened).toBeGreaterThanOrEqual(1);
    const alert = await api.prisma.alert.findFirstOrThrow({
      where: { topicId: id, kind: 'window', resolvedAt: null },
    });
    expect(alert.message).toMatch(/still open 130 min after its end \(threshold 90 min\)/);

    const t = new Date(due).toISOString();
    await mkdir(join(dir, `topic=views/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`), { recursive: true });
    await writeFile(join(dir, `topic=views/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}/_SUCCESS`), '{}');
    await evaluateAlerts(api.prisma, api.secrets, { now });
    expect(await api.prisma.alert.count({ where: { topicId: id, kind: 'window', resolvedAt: null } })).toBe(
      0,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
