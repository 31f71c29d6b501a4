import { type LookupAddress, lookup } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { hostAndPort } from '@hubcap/shared';

/**
 * The alert webhook is an admin-chosen URL the server POSTs to. It must not become a way to reach
 * the cloud's instance metadata (credentials) or other link-local services, whatever the name
 * resolves to when the request is made, unless the operator allows the host (HUBCAP_ALLOWED_ENDPOINTS).
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local; AWS, Azure, GCP metadata at .169.254
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4'); // "this host"
FORBIDDEN.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6'); // link-local
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
FORBIDDEN.addAddress('::', 'ipv6');

/** Whether `address` (an IP literal) is link-local or a metadata address. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return FORBIDDEN.check(mapped, 'ipv4');
  const family = isIP(bare);
  return family !== 0 && FORBIDDEN.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why the server may not POST to `url`, judged on its text alone (literal addresses); null when it may try. */
export function webhookUrlProblem(url: string, allowed: readonly string[] = []): string | null {
  const target = hostAndPort(url);
  if (!target) return 'is not a URL';
  if (isAllowed(target.host, allowed)) return null;
  return isForbiddenAddress(target.host)
    ? 'points at a link-local or cloud metadata address, which the server never calls'
    : null;
}

const isAllowed = (host: string, allowed: readonly string[]) =>
  allowed.some((entry) => entry.split(':')[0] === host.toLowerCase());

/** A DNS lookup that fails when any address of the name is forbidden (checked at connect time). */
const guardedLookup: NonNullable<RequestOptions['lookup']> = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 4);
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      return callback(
        new Error(`${hostname} resolves to ${bad.address}, a link-local or metadata address`),
        '',
        4,
      );
    }
    if ((options as { all?: boolean }).all)
      return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

export type Notify = (url: string, body: unknown) => Promise<void>;

/** POSTs JSON to a webhook within 10 s; refuses link-local and metadata addresses unless `allowed`. */
export function webhookPoster(allowed: readonly string[] = []): Notify {
  return (url, body) =>
    new Promise<void>((resolve, reject) => {
      const problem = webhookUrlProblem(url, allowed);
      if (problem) return reject(new Error(`webhook URL ${problem}`));
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const payload = JSON.stringify(body);
      const req = send(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: 10_000,
          lookup: isAllowed(target.hostname, allowed) ? undefined : guardedLookup,
        },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`webhook answered ${status}`));
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook did not answer within 10 s')));
      req.on('error', reject);
      req.end(payload);
    });
}

export const postJson: Notify = webhookPoster();
