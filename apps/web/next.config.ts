import type { NextConfig } from 'next';

const config: NextConfig = {
  output: 'standalone',
  transpilePackages: ['@hubcap/api', '@hubcap/db', '@hubcap/shared'],
  poweredByHeader: false,
  typedRoutes: true,
};

export default config;
