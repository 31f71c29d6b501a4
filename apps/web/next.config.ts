import type { NextConfig } from 'next';

const config: NextConfig = {
  // Container images ship the self-contained server; `npm start` runs `next start` on the regular build.
  output: process.env.HUBCAP_STANDALONE === '1' ? 'standalone' : undefined,
  transpilePackages: ['@hubcap/api', '@hubcap/db', '@hubcap/deployer', '@hubcap/shared'],
  serverExternalPackages: ['@kubernetes/client-node'],
  poweredByHeader: false,
  typedRoutes: true,
};

export default config;
