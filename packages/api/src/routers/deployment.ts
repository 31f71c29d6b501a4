import { TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { userActor } from '../services/audit.ts';
import {
  deploymentLogs,
  deploymentStatus,
  deployTopic,
  exportManifests,
  pauseTopic,
  reconcileProgress,
  removeTopicDeployment,
  resumeTopic,
} from '../services/deployments/deployments.ts';
import {
  DeploymentStatusView,
  DeploymentView,
  LogLines,
  ManifestsFile,
  ReconcileProgressView,
} from '../services/deployments/views.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

const TopicInput = z.strictObject({ topic: TopicName });

/** Deploying agents: Kubernetes or local processes, whichever the server is configured with. */
export const deploymentRouter = router({
  deploy: editorProcedure
    .input(TopicInput)
    .output(DeploymentStatusView)
    .mutation(({ ctx, input }) => deployTopic(ctx, input.topic, userActor(ctx.user), 'deploy')),
  redeploy: editorProcedure
    .input(TopicInput)
    .output(DeploymentStatusView)
    .mutation(({ ctx, input }) => deployTopic(ctx, input.topic, userActor(ctx.user), 'redeploy')),
  pause: editorProcedure
    .input(TopicInput)
    .output(DeploymentStatusView)
    .mutation(({ ctx, input }) => pauseTopic(ctx, input.topic, userActor(ctx.user))),
  resume: editorProcedure
    .input(TopicInput)
    .output(DeploymentStatusView)
    .mutation(({ ctx, input }) => resumeTopic(ctx, input.topic, userActor(ctx.user))),
  remove: editorProcedure
    .input(TopicInput)
    .output(z.void())
    .mutation(({ ctx, input }) => removeTopicDeployment(ctx, input.topic, userActor(ctx.user))),
  status: viewerProcedure
    .input(TopicInput)
    .output(DeploymentView)
    .query(({ ctx, input }) => deploymentStatus(ctx, input.topic)),
  /** The re-apply of every deployment after this server started (fleet page). */
  reconcileProgress: viewerProcedure.output(ReconcileProgressView).query(() => reconcileProgress()),
  logs: viewerProcedure
    .input(TopicInput.extend({ limit: z.number().int().min(1).max(1000).default(200) }))
    .output(LogLines)
    .query(({ ctx, input }) => deploymentLogs(ctx, input.topic, input.limit)),
  /** YAML for GitOps, secrets redacted. Also served at /api/topics/<topic>/manifests. */
  exportManifests: viewerProcedure
    .input(TopicInput)
    .output(ManifestsFile)
    .query(({ ctx, input }) => exportManifests(ctx, input.topic)),
});
