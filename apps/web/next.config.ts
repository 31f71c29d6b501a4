import type { NextConfig } from 'next';

const config: NextConfig = {
  // Container images ship the self-contained server; `npm start` runs `next start` on the regular build.
  output: process.env.HUBCAP_STANDALONE === '1' ? 'standalone' : undefined,
  transpilePackages: [
    '@hubcap/api',
    '@hubcap/db',
    '@hubcap/deployer',
    '@hubcap/lake',
    '@hubcap/log',
    '@hubcap/shared',
  ],
  serverExternalPackages: ['@kubernetes/client-node'],
  poweredByHeader: false,
  // Pages also get a Content-Security-Policy with a per-request nonce (src/proxy.ts).
  async headers() {
    const common = [
      { key: 'X-Frame-Options', value: 'DENY' },
      { key: 'X-Content-Type-Options', value: 'nosniff' },
      { key: 'Referrer-Policy', value: 'same-origin' },
    ];
    return [
      { source: '/:path*', headers: common },
      {
        source: '/api/:path*',
        headers: [{ key: 'Content-Security-Policy', value: "default-src 'none'; frame-ancestors 'none'" }],
      },
    ];
  },
  typedRoutes: true,
};

export default config;
