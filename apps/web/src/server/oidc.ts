import 'server-only';
import type { OidcConfig } from '@hubcap/api';
import { env } from '../env.ts';

/** Single sign-on settings, or null when OIDC is not configured. */
export function oidcConfig(): OidcConfig | null {
  const e = env();
  if (
    !e.HUBCAP_OIDC_ISSUER ||
    !e.HUBCAP_OIDC_CLIENT_ID ||
    !e.HUBCAP_OIDC_CLIENT_SECRET ||
    !e.HUBCAP_PUBLIC_URL
  )
    return null;
  return {
    issuer: e.HUBCAP_OIDC_ISSUER,
    clientId: e.HUBCAP_OIDC_CLIENT_ID,
    clientSecret: e.HUBCAP_OIDC_CLIENT_SECRET,
    publicUrl: e.HUBCAP_PUBLIC_URL,
    defaultRole: e.HUBCAP_OIDC_DEFAULT_ROLE,
    label: e.HUBCAP_OIDC_LABEL,
  };
}

export const isSecure = (config: OidcConfig) => config.publicUrl.startsWith('https:');

/**
 * Why single sign-on failed, as a code in the sign-in page's `?error=`; the page shows only these
 * fixed texts, never what the URL says.
 */
export const SSO_ERRORS = {
  disabled: 'This account is disabled.',
  unverified:
    'An account with this email address exists. Single sign-on links to it only when the identity provider verifies the address; ask an admin.',
  failed: 'Single sign-on failed; try again.',
} as const;

export function ssoErrorCode(error: unknown): keyof typeof SSO_ERRORS {
  const message = error instanceof Error && error.name === 'AppError' ? error.message : '';
  if (/disabled/.test(message)) return 'disabled';
  if (/already exists/.test(message)) return 'unverified';
  return 'failed';
}
