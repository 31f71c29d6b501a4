/**
 * Storage error classification: retryable failures (throttling, 5xx, timeouts, dropped connections)
 * are retried with backoff; fatal ones (bad credentials, missing container) need an operator, so the
 * agent reports them and turns not-ready, but keeps trying so it recovers once they are fixed.
 */
export type StorageErrorKind =
  | 'throttled'
  | 'server'
  | 'timeout'
  | 'network'
  | 'auth'
  | 'not-found'
  | 'aborted'
  | 'other';

export interface StorageErrorInfo {
  kind: StorageErrorKind;
  retryable: boolean;
  /** Needs an operator (credentials, missing container): readiness turns false while it persists. */
  fatal: boolean;
  status: number | undefined;
  message: string;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'REQUEST_SEND_ERROR',
]);

export function classifyStorageError(error: unknown): StorageErrorInfo {
  const e = (error ?? {}) as {
    name?: string;
    statusCode?: number;
    code?: string;
    message?: string;
    details?: { errorCode?: string };
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = e.details?.errorCode ?? e.code ?? '';
  const message = `${status ? `${status} ` : ''}${code ? `${code}: ` : ''}${(e.message ?? String(error)).split('\n')[0]}`;
  const info = (kind: StorageErrorKind, retryable: boolean, fatal = false): StorageErrorInfo => ({
    kind,
    retryable,
    fatal,
    status,
    message,
  });
  if (e.name === 'AbortError') return info('aborted', false);
  if (status === 429 || status === 503 || code === 'ServerBusy') return info('throttled', true);
  if (status === 408 || e.name === 'TimeoutError' || code === 'OperationTimedOut')
    return info('timeout', true);
  if (status !== undefined && status >= 500) return info('server', true);
  if (status === 401 || status === 403 || /AuthenticationFailed|AuthorizationFailure/.test(code)) {
    return info('auth', true, true);
  }
  if (status === 404 && /ContainerNotFound/.test(code)) return info('not-found', true, true);
  if (e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError')
    return info('auth', true, true);
  if (NETWORK_CODES.has(code) || (status === undefined && /socket|network|ECONN/i.test(e.message ?? ''))) {
    return info('network', true);
  }
  return info('other', false);
}
