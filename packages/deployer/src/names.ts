import type { TopicRef } from './types.ts';

export const FIELD_MANAGER = 'hubcap';
export const TOPIC_ID_LABEL = 'hubcap.io/topic-id';
export const TOPIC_LABEL = 'hubcap.io/topic';
/** Config version last applied (on the Deployment; each agent reports the version it runs). */
export const CONFIG_VERSION_ANNOTATION = 'hubcap.io/config-version';
/** On the pod template: what the pods were started with, so a change rolls them. */
export const TOKEN_HASH_ANNOTATION = 'hubcap.io/token-hash';
export const FILE_LAYOUT_ANNOTATION = 'hubcap.io/file-layout';
/** Replicas the topic runs with when not paused; `resume` scales back to it. */
export const REPLICAS_ANNOTATION = 'hubcap.io/replicas';

/** Every object of a topic is named `hubcap-agent-<topic>` (at most 53 characters: a valid DNS label). */
export function objectName(topic: Pick<TopicRef, 'name'>): string {
  return `hubcap-agent-${topic.name}`;
}

/** Pod selector: stable for the Deployment's life (selectors are immutable). */
export function selectorLabels(topic: TopicRef): Record<string, string> {
  return { 'app.kubernetes.io/name': 'hubcap-agent', [TOPIC_ID_LABEL]: topic.id };
}

export function topicLabelSelector(topic: TopicRef): string {
  return Object.entries(selectorLabels(topic))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/** The tag of an image reference ("repo/agent:0.3.1" → "0.3.1"), or "latest" without one. */
export function imageTag(image: string): string {
  const name = image.split('@')[0]!;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > lastSlash ? name.slice(colon + 1) : 'latest';
}
