import type { PrismaClient } from '@hubcap/db';
import { markerPath, windowLayout, windowOf } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import { withTimeout } from '../topics/connection.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';
import { storeFor } from './grid.ts';

const hhmm = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/**
 * Running topics whose newest window that ended more than `minutes` ago has no topic marker: some
 * partition has not sealed it (stalled, lagging, or its agent is down). One read per topic: a marker
 * needs every earlier window of every partition sealed first, so an older open window shows here too.
 * Windows that started before the topic existed are not its to complete; a topic whose destination
 * cannot be read raises no alert here (the lag and silence alerts speak for it).
 */
export async function openWindowConditions(
  prisma: PrismaClient,
  box: SecretBox,
  minutes: number,
  now: Date,
): Promise<{ topicId: string; slug: string; kind: 'window'; message: string }[]> {
  const topics = await prisma.topic.findMany({
    where: { desiredState: 'running', deployment: { phase: { notIn: ['deleted', 'paused'] } } },
    select: { id: true, slug: true, createdAt: true },
  });
  const due = now.getTime() - minutes * 60_000;
  const conditions = [];
  for (const topic of topics) {
    try {
      const { config } = await loadAgentConfig(prisma, box, topic.id);
      const current = windowOf(config.pathTemplate, new Date(due));
      const window = current && windowOf(config.pathTemplate, new Date(current.start - 1));
      if (!window || window.start < topic.createdAt.getTime()) continue;
      const marker = await withTimeout(
        'the destination',
        storeFor(config).get(markerPath(windowLayout(config), window.start)!),
      );
      if (marker) continue;
      conditions.push({
        topicId: topic.id,
        slug: topic.slug,
        kind: 'window' as const,
        message: `window ${hhmm(window.start)}–${hhmm(window.end).slice(11)} UTC still open ${Math.round((now.getTime() - window.end) / 60_000)} min after its end (threshold ${minutes} min)`,
      });
    } catch {
      // unreadable config or destination: see above
    }
  }
  return conditions;
}
