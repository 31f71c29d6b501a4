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
