import type { PrismaClient } from '@hubcap/db';
import { BlobStore, FolderStore, type GridWindow, type LakeStore, readGrid } from '@hubcap/lake';
import { type TopicConfig, timeBoundary, windowLayout, windowTemplate } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import type { SecurityPolicy } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { describe, storageService, withTimeout } from '../topics/connection.ts';
import { policyProblems } from '../topics/policy.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';

export interface CompletenessGrid {
  /** The window's span: the coarsest time variable of the path template; null when it has none. */
  window: 'hour' | 'day' | 'month' | 'year' | null;
  partitions: string[];
  /** Newest first. */
  windows: GridWindow[];
}

/** The topic's destination as verify reads it (the same endpoints the agent writes to). */
export function storeFor(config: TopicConfig): LakeStore {
  const { destination } = config;
  if (destination.kind === 'localFolder') return new FolderStore(destination.path);
  const service = storageService(destination.account);
  return new BlobStore(service.getContainerClient(destination.container));
}

/**
 * The completeness grid of a topic's last `days` days, read from the manifests and markers in its
 * destination: true whether or not an agent runs. Partitions are those the topic has reported or
 * probed (PartitionState).
 */
export async function completenessGrid(
  prisma: PrismaClient,
  box: SecretBox,
  policy: SecurityPolicy,
  topicId: string,
  options: { days: number; now?: Date },
): Promise<CompletenessGrid> {
  const { config } = await loadAgentConfig(prisma, box, topicId);
  const boundary = timeBoundary(config.pathTemplate);
  const partitions = (
    await prisma.partitionState.findMany({ where: { topicId }, select: { partitionId: true } })
  )
    .map((p) => p.partitionId)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (windowTemplate(config.pathTemplate) === null || boundary === 'none' || partitions.length === 0)
    return { window: boundary === 'none' ? null : boundary, partitions, windows: [] };
  // A config saved before the operator narrowed the policy must not make the server call elsewhere.
  const refused = policyProblems(config, policy);
  if (refused.length > 0)
    throw new AppError('PRECONDITION_FAILED', `cannot read the destination: ${refused[0]!.message}`);
  const now = options.now ?? new Date();
  const layout = windowLayout(config);
  const from = new Date(now.getTime() - options.days * 86_400_000);
  try {
    const windows = await withTimeout(
      'the destination',
      readGrid(storeFor(config), layout, partitions, { from, to: now }),
    );
    return { window: boundary, partitions, windows };
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('BAD_GATEWAY', `cannot read the manifests in the destination: ${describe(error)}`);
  }
}
