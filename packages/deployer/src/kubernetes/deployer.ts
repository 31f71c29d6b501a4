import { fileLayout } from '@hubcap/shared';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  PolicyV1Api,
  ServerConfiguration,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  AGENT_KINDS,
  type AgentKind,
  type AgentObject,
  describeObject,
  hashOf,
  jobManifests,
  jobObjectName,
  type KubernetesTarget,
  manifests,
  SECRET_KEYS,
} from '../manifests.ts';
import {
  CONFIG_VERSION_ANNOTATION,
  FIELD_MANAGER,
  FILE_LAYOUT_ANNOTATION,
  objectName,
  REPLICAS_ANNOTATION,
  TOKEN_HASH_ANNOTATION,
  topicLabelSelector,
} from '../names.ts';
import {
  type AgentDeploymentSpec,
  type AgentJobSpec,
  type AgentLogLine,
  type AgentReplicaStatus,
  type Deployer,
  DeployerError,
  type DeploymentStatus,
  emptyStatus,
  type JobStatus,
  type TopicRef,
} from '../types.ts';
import { toDeployerError } from './errors.ts';

export interface KubernetesDeployerOptions extends KubernetesTarget {
  kubeConfig: KubeConfig;
  /** Per request. Default 15 s. */
  requestTimeoutMs?: number;
}

/**
 * One Deployment (plus ServiceAccount, Secret with the agent token, optional PDB) per topic, in one namespace,
 * through server-side apply with the field manager "hubcap".
 */
export class KubernetesDeployer implements Deployer {
  readonly target = 'kubernetes' as const;
  readonly #options: KubernetesDeployerOptions;
  readonly #timeoutMs: number;
  readonly #objects: KubernetesObjectApi;
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #policy: PolicyV1Api;
  readonly #batch: BatchV1Api;

  constructor(options: KubernetesDeployerOptions) {
    this.#options = options;
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
    const cluster = options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new DeployerError('unavailable', 'The kubeconfig has no current cluster.');
    const timeoutMs = this.#timeoutMs;
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: options.kubeConfig },
      promiseMiddleware: [
        {
          pre: async (context) => {
            context.setSignal(AbortSignal.timeout(timeoutMs));
            context.setHeaderParam('User-Agent', 'hubcap-control-plane');
            return context;
          },
          post: async (response) => response,
        },
      ],
    });
    this.#objects = new KubernetesObjectApi(configuration);
    this.#core = new CoreV1Api(configuration);
    this.#apps = new AppsV1Api(configuration);
    this.#policy = new PolicyV1Api(configuration);
    this.#batch = new BatchV1Api(configuration);
  }

  get namespace(): string {
    return this.#options.namespace;
  }

  async #call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toDeployerError(error, `${what} in namespace "${this.namespace}"`, this.#timeoutMs);
    }
  }

  /** The object, or null when it does not exist. */
  async #readOrNull<T extends KubernetesObject>(what: string, read: () => Promise<T>): Promise<T | null> {
    try {
      return await this.#call(what, read);
    } catch (error) {
      if (error instanceof DeployerError && error.kind === 'notFound') return null;
      throw error;
    }
  }

  #readDeployment(topic: Pick<TopicRef, 'name'>): Promise<V1Deployment | null> {
    const name = objectName(topic);
    return this.#readOrNull(`read Deployment/${name}`, () =>
      this.#apps.readNamespacedDeployment({ name, namespace: this.namespace }),
    );
  }

  /** The agent token in the topic's Secret: a redeploy keeps it, so the pods need not restart. */
  async #deployedToken(name: string): Promise<string> {
    const secret = await this.#readOrNull<V1Secret>(`read Secret/${name}`, () =>
      this.#core.readNamespacedSecret({ name, namespace: this.namespace }),
    );
    const deployed = secret?.data?.[SECRET_KEYS.agentToken];
    if (!deployed) {
      throw new DeployerError(
        'missingToken',
        `Secret/${name} holds no agent token in namespace "${this.namespace}"; a new token is needed.`,
      );
    }
    return Buffer.from(deployed, 'base64').toString('utf8');
  }

  #patch(object: AgentObject, dryRun?: 'All') {
    return this.#objects.patch<AgentObject>(
      object,
      undefined,
      dryRun,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /**
   * Validates every object with a server-side dry run (admission, quotas, schemas, immutable fields),
   * then applies them in order, then deletes objects of the topic Hubcap made earlier but no longer
   * wants. A rejected object leaves the cluster as it was.
   */
  async apply(spec: AgentDeploymentSpec): Promise<DeploymentStatus> {
    const name = objectName(spec.topic);
    const agentToken = spec.agentToken ?? (await this.#deployedToken(name));
    const live = await this.#readDeployment(spec.topic);
    const layout = hashOf(fileLayout(spec.config));
    const objects = manifests({ ...spec, agentToken }, this.#options, {
      recreate: live !== null && needsRecreate(live, layout),
    });
    const wanted = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    const drift = live ? deploymentDrift(live, wanted) : [`Deployment/${name} was missing`];

    for (const object of objects) {
      try {
        await this.#call(`check ${describeObject(object)} (server-side dry run)`, () =>
          this.#patch(object, 'All'),
        );
      } catch (error) {
        const cause = error as DeployerError;
        throw new DeployerError(
          cause.kind,
          `${describeObject(object)} was refused: ${cause.message} Nothing was applied.`,
          {
            ...(cause.status === undefined ? {} : { status: cause.status }),
            notApplied: objects.map(describeObject),
            cause,
          },
        );
      }
    }
    const applied: string[] = [];
    for (const [i, object] of objects.entries()) {
      try {
        await this.#call(`apply ${describeObject(object)}`, () => this.#patch(object));
        applied.push(describeObject(object));
      } catch (error) {
        // Passed the dry run, so something changed in between or the API failed: say what is where.
        const cause = error as DeployerError;
        const notApplied = objects.slice(i).map(describeObject);
        const partial = applied.length
          ? ` Applied before the failure: ${applied.join(', ')}. Not applied: ${notApplied.join(', ')}; the running pods keep their previous Deployment until a redeploy succeeds.`
          : ' Nothing was applied.';
        throw new DeployerError(cause.kind, `${cause.message}${partial}`, {
          ...(cause.status === undefined ? {} : { status: cause.status }),
          applied,
          notApplied,
          cause,
        });
      }
    }
    await this.#prune(spec.topic, new Set(objects.map((o) => o.kind)));
    return { ...(await this.status(spec.topic)), drift };
  }

  /** List and delete of one kind of the topic's objects. */
  #kindApi(kind: AgentKind, namespace: string, labelSelector: string) {
    const byName = (name: string) => ({ name, namespace });
    const apis: Record<
      AgentKind,
      { list(): Promise<{ items: KubernetesObject[] }>; delete(name: string): Promise<unknown> }
    > = {
      Deployment: {
        list: () => this.#apps.listNamespacedDeployment({ namespace, labelSelector }),
        delete: (n) => this.#apps.deleteNamespacedDeployment(byName(n)),
      },
      PodDisruptionBudget: {
        list: () => this.#policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector }),
        delete: (n) => this.#policy.deleteNamespacedPodDisruptionBudget(byName(n)),
      },
      ConfigMap: {
        list: () => this.#core.listNamespacedConfigMap({ namespace, labelSelector }),
        delete: (n) => this.#core.deleteNamespacedConfigMap(byName(n)),
      },
      Secret: {
        list: () => this.#core.listNamespacedSecret({ namespace, labelSelector }),
        delete: (n) => this.#core.deleteNamespacedSecret(byName(n)),
      },
      ServiceAccount: {
        list: () => this.#core.listNamespacedServiceAccount({ namespace, labelSelector }),
        delete: (n) => this.#core.deleteNamespacedServiceAccount(byName(n)),
      },
    };
    return apis[kind];
  }

  /**
   * Deletes the topic's objects of kinds no longer wanted (a PodDisruptionBudget turned off, the
   * ConfigMap older versions made), but only those Hubcap's field manager applied: an object someone
   * else made with the same labels stays.
   */
  async #prune(topic: TopicRef, wanted: Set<string | undefined>): Promise<void> {
    const labelSelector = topicLabelSelector(topic);
    for (const kind of AGENT_KINDS.filter((k) => !wanted.has(k))) {
      const api = this.#kindApi(kind, this.namespace, labelSelector);
      const { items } = await this.#call(`list the ${kind}s labelled ${labelSelector}`, () => api.list());
      for (const item of items.filter(appliedByHubcap)) {
        const name = item.metadata?.name ?? '';
        await this.#call(`delete ${kind}/${name}, which Hubcap no longer uses`, () => api.delete(name)).catch(
          (error: DeployerError) => {
            if (error.kind !== 'notFound') throw error;
          },
        );
      }
    }
  }

  async #scale(topic: TopicRef, replicas: (live: V1Deployment) => number): Promise<DeploymentStatus> {
    const name = objectName(topic);
    const live = await this.#readDeployment(topic);
    if (!live) {
      throw new DeployerError(
        'notFound',
        `Deployment/${name} does not exist in namespace "${this.namespace}": deploy the topic first.`,
      );
    }
    const patch: KubernetesObject & { spec: { replicas: number } } = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: this.namespace },
      spec: { replicas: replicas(live) },
    };
    await this.#call(`scale Deployment/${name}`, () =>
      this.#objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch),
    );
    return this.status(topic);
  }

  pause(topic: TopicRef): Promise<DeploymentStatus> {
    return this.#scale(topic, () => 0);
  }

  resume(topic: TopicRef): Promise<DeploymentStatus> {
    return this.#scale(topic, (live) => {
      const replicas = Number(live.metadata?.annotations?.[REPLICAS_ANNOTATION]);
      return Number.isInteger(replicas) && replicas >= 0 ? replicas : 1;
    });
  }

  /** Deletes every object of the topic by label; reports each kind that could not be deleted. */
  async remove(topic: TopicRef): Promise<void> {
    const namespace = this.namespace;
    const labelSelector = topicLabelSelector(topic);
    const propagationPolicy = 'Background';
    const kinds: [string, () => Promise<unknown>][] = [
      // A topic's one-off runs (and, in the background, their pods) go with it.
      [
        'Jobs',
        () => this.#batch.deleteCollectionNamespacedJob({ namespace, labelSelector, propagationPolicy }),
      ],
      [
        'Deployments',
        () =>
          this.#apps.deleteCollectionNamespacedDeployment({ namespace, labelSelector, propagationPolicy }),
      ],
      [
        'PodDisruptionBudgets',
        () => this.#policy.deleteCollectionNamespacedPodDisruptionBudget({ namespace, labelSelector }),
      ],
      ['ConfigMaps', () => this.#core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector })],
      ['Secrets', () => this.#core.deleteCollectionNamespacedSecret({ namespace, labelSelector })],
      [
        'ServiceAccounts',
        () => this.#core.deleteCollectionNamespacedServiceAccount({ namespace, labelSelector }),
      ],
    ];
    const deleted: string[] = [];
    const failed: DeployerError[] = [];
    for (const [kind, remove] of kinds) {
      try {
        await this.#call(`delete the ${kind} labelled ${labelSelector}`, remove);
        deleted.push(kind);
      } catch (error) {
        failed.push(error as DeployerError);
      }
    }
    const first = failed[0];
    if (first) {
      throw new DeployerError(
        first.kind,
        `${failed.map((e) => e.message).join(' ')} Deleted: ${deleted.join(', ') || 'nothing'}; delete the rest again.`,
        { ...(first.status === undefined ? {} : { status: first.status }), applied: deleted, cause: first },
      );
    }
  }

  async status(topic: TopicRef): Promise<DeploymentStatus> {
    const live = await this.#readDeployment(topic);
    if (!live) {
      return emptyStatus('kubernetes', 'deleted', `No Deployment in namespace "${this.namespace}".`);
    }
    const pods = await this.#call('list the pods', () =>
      this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector: topicLabelSelector(topic) }),
    );
    return deploymentStatus(live, pods.items);
  }

  /** Applies the run's objects; a Job that exists is left as it is (its pod template is immutable). */
  async runJob(spec: AgentJobSpec): Promise<JobStatus> {
    const live = await this.#readJob(spec.name);
    if (live) return jobStatusOf(live);
    for (const object of jobManifests(spec, this.#options))
      await this.#call(`apply ${describeObject(object)}`, () => this.#patch(object));
    return this.jobStatus(spec.topic, spec.name);
  }

  #readJob(run: string): Promise<V1Job | null> {
    const name = jobObjectName({ name: run });
    return this.#readOrNull(`read Job/${name}`, () =>
      this.#batch.readNamespacedJob({ name, namespace: this.namespace }),
    );
  }

  async jobStatus(_topic: TopicRef, run: string): Promise<JobStatus> {
    const live = await this.#readJob(run);
    return live ? jobStatusOf(live) : { phase: 'deleted', restarts: 0, message: 'No such Job.' };
  }

  /** Deletes the Job with its pods (they get their grace period to drain) and the run's Secret. */
  async removeJob(_topic: TopicRef, run: string): Promise<void> {
    const name = jobObjectName({ name: run });
    const namespace = this.namespace;
    const gone = (error: DeployerError) => {
      if (error.kind !== 'notFound') throw error;
    };
    await this.#call(`delete Job/${name}`, () =>
      this.#batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }),
    ).catch(gone);
    await this.#call(`delete Secret/${name}`, () =>
      this.#core.deleteNamespacedSecret({ name, namespace }),
    ).catch(gone);
  }

  async logs(topic: TopicRef, options: { limit?: number } = {}): Promise<AgentLogLine[]> {
    const pods = await this.#call('list the pods', () =>
      this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector: topicLabelSelector(topic) }),
    );
    const limit = options.limit ?? 200;
    const lines: AgentLogLine[] = [];
    for (const pod of pods.items) {
      const name = pod.metadata?.name ?? '?';
      const text = await this.#call(`read the logs of pod ${name}`, () =>
        this.#core.readNamespacedPodLog({
          name,
          namespace: this.namespace,
          container: 'agent',
          tailLines: limit,
          timestamps: true,
        }),
      ).catch((error: DeployerError) => `${new Date().toISOString()} (no logs: ${error.message})`);
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        const space = raw.indexOf(' ');
        lines.push({ at: raw.slice(0, space), source: name, stream: 'stdout', line: raw.slice(space + 1) });
      }
    }
    return lines.sort((a, b) => a.at.localeCompare(b.at)).slice(-limit);
  }
}

/** A Job's state as Kubernetes reports it: conditions Complete / Failed, counts of failed pods. */
export function jobStatusOf(job: V1Job): JobStatus {
  const restarts = job.status?.failed ?? 0;
  const condition = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = condition('Failed');
  if (condition('Complete') || (job.status?.succeeded ?? 0) > 0)
    return { phase: 'succeeded', restarts, message: 'Completed.' };
  if (failed)
    return {
      phase: 'failed',
      restarts,
      message: `Failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim(),
    };
  return {
    phase: 'running',
    restarts,
    message: restarts > 0 ? `Running (attempt ${restarts + 1}).` : 'Running.',
  };
}

const templateAnnotation = (deployment: V1Deployment, key: string) =>
  deployment.spec?.template?.metadata?.annotations?.[key];

/** Whether Hubcap's field manager applied (part of) this object. */
function appliedByHubcap(object: KubernetesObject): boolean {
  return object.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER) ?? false;
}

/** The Deployment's newest pods all run and no old pod is left. */
function rolledOut(live: V1Deployment): boolean {
  const desired = live.spec?.replicas ?? 0;
  const s = live.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (live.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= desired &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= desired
  );
}

/**
 * `Recreate` when the pods are to start on another file layout than the live ones, and for as long as
 * such a rollout is not finished (switching back to a rolling update mid-way would start new pods
 * beside old ones).
 */
export function needsRecreate(live: V1Deployment, wantedLayout: string): boolean {
  const liveLayout = templateAnnotation(live, FILE_LAYOUT_ANNOTATION);
  if (liveLayout !== undefined && liveLayout !== wantedLayout) return true;
  return live.spec?.strategy?.type === 'Recreate' && !rolledOut(live);
}

/** How the live Deployment differs from the one the database says should run. */
export function deploymentDrift(live: V1Deployment, wanted: V1Deployment): string[] {
  const drift: string[] = [];
  const name = wanted.metadata?.name;
  if (templateAnnotation(live, TOKEN_HASH_ANNOTATION) !== templateAnnotation(wanted, TOKEN_HASH_ANNOTATION))
    drift.push(`Deployment/${name} ran pods with another agent token`);
  const liveLayout = templateAnnotation(live, FILE_LAYOUT_ANNOTATION);
  if (liveLayout !== templateAnnotation(wanted, FILE_LAYOUT_ANNOTATION))
    drift.push(`Deployment/${name} ran another file layout (${liveLayout ?? 'none recorded'})`);
  if (live.spec?.replicas !== wanted.spec?.replicas) {
    drift.push(
      `Deployment/${name} had ${live.spec?.replicas ?? 'no'} replicas, expected ${wanted.spec?.replicas}`,
    );
  }
  const liveImage = live.spec?.template?.spec?.containers?.[0]?.image;
  const wantedImage = wanted.spec?.template?.spec?.containers?.[0]?.image;
  if (liveImage !== wantedImage)
    drift.push(`Deployment/${name} ran image ${liveImage}, expected ${wantedImage}`);
  return drift;
}

/** Container states that will not fix themselves. */
const STUCK = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

function podStatus(pod: V1Pod): AgentReplicaStatus {
  const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const replica: AgentReplicaStatus = {
    name: pod.metadata?.name ?? '?',
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    restarts: containers.reduce((n, c) => n + (c.restartCount ?? 0), 0),
  };
  const waiting = containers.find((c) => c.state?.waiting?.reason)?.state?.waiting;
  if (waiting?.reason) replica.waitingReason = waiting.reason;
  if (waiting?.message) replica.waitingMessage = waiting.message.slice(0, 300);
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) {
    replica.waitingReason = 'Unschedulable';
    replica.waitingMessage = (unschedulable.message ?? 'no node can run it').slice(0, 300);
  }
  for (const c of containers) {
    const t = c.lastState?.terminated ?? c.state?.terminated;
    if (!t) continue;
    const finishedAt = t.finishedAt ? new Date(t.finishedAt).toISOString() : undefined;
    if (!replica.lastTermination || (finishedAt && finishedAt > (replica.lastTermination.finishedAt ?? ''))) {
      replica.lastTermination = {
        reason: t.reason ?? 'Terminated',
        exitCode: t.exitCode ?? null,
        ...(t.message ? { message: t.message.slice(0, 300) } : {}),
        ...(finishedAt ? { finishedAt } : {}),
      };
    }
  }
  return replica;
}

/** Restarts that, with the container not ready, count as a crash loop even while it briefly runs. */
const CRASH_LOOP_RESTARTS = 3;

/** Why the Deployment cannot reach its desired state by itself, in one line; null when nothing says so. */
function failureOf(live: V1Deployment, replicas: AgentReplicaStatus[]): string | null {
  const conditions = live.status?.conditions ?? [];
  const replicaFailure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  // Quota, Pod Security admission, a missing ServiceAccount: the ReplicaSet cannot even create pods.
  if (replicaFailure)
    return `pods cannot be created (${replicaFailure.reason ?? 'ReplicaFailure'}): ${replicaFailure.message ?? ''}`.trim();
  const stuck = replicas.find(
    (r) => r.waitingReason && (STUCK.has(r.waitingReason) || r.waitingReason === 'Unschedulable'),
  );
  if (stuck) {
    const last = stuck.lastTermination;
    return [
      `pod ${stuck.name} is in ${stuck.waitingReason}`,
      stuck.waitingMessage ? `: ${stuck.waitingMessage}` : '',
      last ? ` (last exit: ${last.reason}, code ${last.exitCode})` : '',
    ].join('');
  }
  const looping = replicas.find((r) => !r.ready && r.restarts >= CRASH_LOOP_RESTARTS && r.lastTermination);
  if (looping) {
    const last = looping.lastTermination!;
    return `pod ${looping.name} keeps crashing (${looping.restarts} restarts; last exit: ${last.reason}, code ${last.exitCode}${last.message ? `: ${last.message}` : ''})`;
  }
  const deadline = conditions.find(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (deadline) return 'the rollout exceeded its progress deadline';
  return null;
}

/** The UI's view of a Deployment and its pods. */
export function deploymentStatus(live: V1Deployment, pods: V1Pod[]): DeploymentStatus {
  const desired = live.spec?.replicas ?? 0;
  const ready = live.status?.readyReplicas ?? 0;
  const updated = live.status?.updatedReplicas ?? 0;
  const replicas = pods.map(podStatus);
  const version = Number(live.metadata?.annotations?.[CONFIG_VERSION_ANNOTATION]);
  const failure = desired === 0 ? null : failureOf(live, replicas);
  let phase: DeploymentStatus['phase'];
  let message: string;
  if (desired === 0) {
    phase = 'paused';
    message = replicas.length ? `Paused; ${replicas.length} pod(s) still stopping.` : 'Paused (0 replicas).';
  } else if (failure) {
    phase = 'failed';
    message = `${ready}/${desired} ready; ${failure}.`;
  } else if (ready >= desired && rolledOut(live)) {
    phase = 'running';
    message = `${ready}/${desired} ready.`;
  } else {
    phase = 'applying';
    message = `${ready}/${desired} ready, ${updated} updated; rolling out.`;
  }
  return {
    target: 'kubernetes',
    phase,
    desiredReplicas: desired,
    readyReplicas: ready,
    configVersion: Number.isInteger(version) ? version : null,
    replicas,
    message,
    drift: [],
    observedAt: new Date().toISOString(),
  };
}
