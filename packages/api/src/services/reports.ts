import type { PrismaClient } from '@hubcap/db';
import type { AgentReport, EventPosition } from '@hubcap/shared';
import type { AgentPrincipal } from '../context.ts';
import { AppError } from '../errors.ts';

const position = (prefix: string, p: EventPosition | null) => ({
  [`${prefix}SequenceNumber`]: p ? BigInt(p.sequenceNumber) : null,
  [`${prefix}Offset`]: p?.offset ?? null,
  [`${prefix}Time`]: p ? new Date(p.enqueuedTime) : null,
});

/** Stores one validated report: partition states, one metric sample, the agent's last-seen time. */
export async function ingestReport(
  prisma: PrismaClient,
  agent: AgentPrincipal,
  report: AgentReport,
): Promise<{ configVersion: number }> {
  if (report.topic !== agent.topicName) {
    throw new AppError(
      'FORBIDDEN',
      `this agent token belongs to topic "${agent.topicName}", not "${report.topic}"`,
    );
  }
  const at = new Date(report.sentAt);
  const lagEvents = report.partitions.reduce((sum, p) => sum + p.lagEvents, 0);
  const lagSeconds = report.partitions.reduce((max, p) => Math.max(max, p.lagSeconds), 0);
  const [topic] = await prisma.$transaction([
    prisma.topic.findUniqueOrThrow({ where: { id: agent.topicId }, select: { configVersion: true } }),
    prisma.agentInstance.update({
      where: { id: agent.agentId },
      data: { lastSeenAt: new Date(), agentVersion: report.agentVersion },
    }),
    ...report.partitions.map((p) => {
      const data = {
        agentInstanceId: agent.agentId,
        ...position('lastEnqueued', p.lastEnqueued),
        ...position('lastReceived', p.lastReceived),
        ...position('lastCheckpoint', p.lastCheckpointed),
        lagEvents: BigInt(p.lagEvents),
        lagSeconds: p.lagSeconds,
      };
      return prisma.partitionState.upsert({
        where: { topicId_partitionId: { topicId: agent.topicId, partitionId: p.partitionId } },
        create: { topicId: agent.topicId, partitionId: p.partitionId, ...data },
        update: data,
      });
    }),
    prisma.metricSample.create({
      data: {
        topicId: agent.topicId,
        agentInstanceId: agent.agentId,
        at,
        eventsPerSecond: report.eventsPerSecond,
        bytesPerSecond: report.bytesPerSecond,
        lagEvents: BigInt(lagEvents),
        lagSeconds,
        filesWritten: report.filesWritten,
        errorCount: report.errors.length,
      },
    }),
  ]);
  return { configVersion: topic.configVersion };
}
