import { ApiException } from '@kubernetes/client-node';
import { DeployerError, type DeployerErrorKind } from '../types.ts';

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return body && typeof body === 'object' ? (body as StatusBody) : {};
}

/** What the API server said, in one line: its message plus the invalid fields. */
function serverSays(body: StatusBody): string {
  const causes = (body.details?.causes ?? [])
    .map((c) => [c.field, c.message].filter(Boolean).join(': '))
    .filter(Boolean);
  const message = body.message?.trim() ?? '';
  const extra = causes.filter((c) => !message.includes(c));
  return [message, ...extra].filter(Boolean).join('; ').slice(0, 600);
}

/** A network-level failure's code (ECONNREFUSED…), looking through fetch's `cause`. */
function networkCode(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/**
 * Turns whatever the client threw into a DeployerError a person can act on. `what` says which
 * request failed ("apply Deployment/hubcap-agent-orders in namespace agents").
 */
export function toDeployerError(error: unknown, what: string, timeoutMs: number): DeployerError {
  if (error instanceof DeployerError) return error;
  if (error instanceof ApiException) {
    const status = error.code;
    const says = serverSays(statusBody(error.body));
    const detail = says ? `: ${says}` : '';
    const make = (kind: DeployerErrorKind, message: string) =>
      new DeployerError(kind, message, { status, cause: error });
    switch (true) {
      case status === 401:
        return make(
          'unauthorized',
          `The Kubernetes API rejected the control plane's credentials (401 Unauthorized) while trying to ${what}. Check the kubeconfig or the control plane's service account token.`,
        );
      case status === 403:
        return make(
          'forbidden',
          `The control plane is not allowed to ${what} (403 Forbidden)${detail}. Check its RBAC Role in the agents' namespace (Helm value rbac.create).`,
        );
      case status === 404:
        return make(
          'notFound',
          `Not found while trying to ${what} (404)${detail}. Does the namespace exist?`,
        );
      case status === 409:
        return make(
          'conflict',
          `Conflict while trying to ${what} (409)${detail}. Another field manager or a concurrent change owns these fields; retry, or remove the other manager's changes.`,
        );
      case status === 422:
        return make(
          'invalid',
          `Kubernetes rejected the object as invalid while trying to ${what} (422)${detail}.`,
        );
      case status === 429 || status >= 500:
        return make(
          'unavailable',
          `The Kubernetes API failed while trying to ${what} (${status})${detail}. It is probably temporary: try again.`,
        );
      default:
        return make('failed', `The Kubernetes API answered ${status} while trying to ${what}${detail}.`);
    }
  }
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new DeployerError(
      'timeout',
      `The Kubernetes API did not answer within ${timeoutMs / 1000} s while trying to ${what}.`,
      { cause: error },
    );
  }
  const code = networkCode(error);
  if (code) {
    return new DeployerError(
      'unavailable',
      `Cannot reach the Kubernetes API (${code}) while trying to ${what}. Check the API server address and the network.`,
      { cause: error },
    );
  }
  return new DeployerError('failed', `Could not ${what}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
