import type { TopicConfig } from './topic-config.ts';

/**
 * Which hosts Hubcap may connect to on a user's behalf (control plane: Test connection, Preview;
 * agent: at start). By default only Azure's own endpoints; an operator may allow more (the local
 * platform allows its own Event Hubs server and Azurite). Managed-identity tokens only ever go to
 * Azure's endpoints, whatever the operator allows.
 */

/** Host suffixes of Azure's public and sovereign clouds (public, China, US Government, Germany). */
export const AZURE_ENDPOINT_SUFFIXES = {
  eventHubs: [
    '.servicebus.windows.net',
    '.servicebus.chinacloudapi.cn',
    '.servicebus.usgovcloudapi.net',
    '.servicebus.cloudapi.de',
  ],
  storage: [
    '.blob.core.windows.net',
    '.dfs.core.windows.net',
    '.blob.core.chinacloudapi.cn',
    '.dfs.core.chinacloudapi.cn',
    '.blob.core.usgovcloudapi.net',
    '.dfs.core.usgovcloudapi.net',
    '.blob.core.cloudapi.de',
    '.dfs.core.cloudapi.de',
  ],
} as const;

export type EndpointKind = keyof typeof AZURE_ENDPOINT_SUFFIXES;

/** An endpoint a config makes Hubcap connect to. */
export interface Endpoint {
  kind: EndpointKind;
  /** Dotted path of the config field it comes from, so a form can show the problem next to it. */
  field: string;
  host: string;
  port: number | null;
  /** Whether a managed-identity token is sent to it. */
  carriesToken: boolean;
}

/**
 * Entries an operator may allow: `host`, `host:port` or `*.suffix` (letters, digits, dots, dashes).
 * Returns the problem with `entry`, or null when it is usable.
 */
export function allowedEndpointProblem(entry: string): string | null {
  return /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i.test(entry)
    ? null
    : `"${entry}" is not a host, host:port or *.suffix`;
}

/** A comma-separated list of allowed entries (an environment variable) as a list. */
export function parseAllowedEndpoints(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
}

export function isAzureEndpoint(kind: EndpointKind, host: string): boolean {
  const h = host.toLowerCase();
  return AZURE_ENDPOINT_SUFFIXES[kind].some((suffix) => h.endsWith(suffix) && h.length > suffix.length);
}

function matchesEntry(entry: string, host: string, port: number | null): boolean {
  const [pattern, entryPort] = entry.split(':') as [string, string | undefined];
  if (entryPort !== undefined && Number(entryPort) !== port) return false;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return host === pattern;
}

/** Why Hubcap may not connect to `endpoint`, or null when it may. */
export function endpointProblem(endpoint: Endpoint, allowed: readonly string[]): string | null {
  const host = endpoint.host.toLowerCase();
  if (isAzureEndpoint(endpoint.kind, host)) return null;
  const what = endpoint.kind === 'eventHubs' ? 'an Event Hubs namespace' : 'a storage account';
  if (endpoint.carriesToken) {
    return `managed identity tokens are only sent to Azure endpoints; "${host}" is not ${what} (${AZURE_ENDPOINT_SUFFIXES[endpoint.kind].join(', ')})`;
  }
  if (allowed.some((entry) => matchesEntry(entry, host, endpoint.port))) return null;
  return `"${host}" is not ${what} in Azure (${AZURE_ENDPOINT_SUFFIXES[endpoint.kind][0]}…); an operator can allow other hosts with HUBCAP_ALLOWED_ENDPOINTS`;
}

/** `host[:port]` or a URL → host and port; null when it is neither. */
export function hostAndPort(value: string): { host: string; port: number | null } | null {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `tcp://${value}`;
  try {
    const url = new URL(withScheme);
    if (!url.hostname) return null;
    return {
      host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
      port: url.port ? Number(url.port) : null,
    };
  } catch {
    return null;
  }
}

/** `Key=value;…` parts of a connection string, keys lower-cased. */
export function connectionStringParts(connectionString: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return parts;
}

/** Where a storage connection string points: its BlobEndpoint, the development storage, or account + suffix. */
export function storageHost(connectionString: string): { host: string; port: number | null } | null {
  const parts = connectionStringParts(connectionString);
  const blob = parts.get('blobendpoint');
  if (blob) return hostAndPort(blob);
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return { host: '127.0.0.1', port: 10000 };
  const account = parts.get('accountname');
  if (!account) return null;
  return {
    host: `${account}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`.toLowerCase(),
    port: null,
  };
}

/** Every endpoint a topic's config makes Hubcap connect to; unparsable ones come back with an empty host. */
export function topicEndpoints(config: TopicConfig): Endpoint[] {
  const endpoints: Endpoint[] = [];
  const add = (
    kind: EndpointKind,
    field: string,
    target: { host: string; port: number | null } | null,
    carriesToken: boolean,
  ) => endpoints.push({ kind, field, host: target?.host ?? '', port: target?.port ?? null, carriesToken });
  const { source, destination, format } = config;
  // With a connection string the namespace is its endpoint (see Source): checked once, there.
  if (source.auth.kind === 'connectionString') {
    const endpoint = connectionStringParts(source.auth.connectionString).get('endpoint');
    add('eventHubs', 'source.auth.connectionString', endpoint ? hostAndPort(endpoint) : null, false);
  } else {
    add('eventHubs', 'source.fullyQualifiedNamespace', hostAndPort(source.fullyQualifiedNamespace), true);
  }
  if (destination.kind === 'azureBlob') {
    const { account } = destination;
    if (account.kind === 'connectionString') {
      add('storage', 'destination.account.connectionString', storageHost(account.connectionString), false);
    } else {
      add('storage', 'destination.account.accountUrl', hostAndPort(account.accountUrl), true);
    }
  }
  if (format.type === 'parquet' && format.schemaRegistry) {
    const registry = hostAndPort(format.schemaRegistry.fullyQualifiedNamespace);
    add('eventHubs', 'format.schemaRegistry.fullyQualifiedNamespace', registry, true);
  }
  return endpoints;
}

/** Problems with the endpoints of `config`, each with the field it comes from; empty when all are allowed. */
export function topicEndpointProblems(
  config: TopicConfig,
  allowed: readonly string[],
): { field: string; message: string }[] {
  return topicEndpoints(config).flatMap((endpoint) => {
    const message = endpoint.host
      ? endpointProblem(endpoint, allowed)
      : 'names no endpoint Hubcap can check (expected Endpoint=…, BlobEndpoint=… or AccountName=…)';
    return message ? [{ field: endpoint.field, message }] : [];
  });
}
