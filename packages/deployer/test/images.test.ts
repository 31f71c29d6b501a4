// The images cannot be built here (no Docker engine): their Dockerfiles and .dockerignore are checked
// statically for what keeps them small, cached and free of secrets.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const workspaces = ['apps', 'packages'].flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${dir}/${d.name}`),
);

/** The instructions of one stage, without comments and continuation lines joined. */
function stage(dockerfile: string, name: string): string[] {
  const lines = dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${name}$`).test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '));
  return lines.slice(start, end === -1 ? undefined : end);
}

describe('images (static checks; no Docker here)', () => {
  it('web: installs dependencies from the manifests of every workspace before copying the sources', () => {
    const build = stage(read('deploy/docker/web.Dockerfile'), 'build');
    const install = build.findIndex((l) => l.startsWith('RUN npm ci'));
    const sources = build.indexOf('COPY . .');
    expect(install).toBeGreaterThan(0);
    expect(sources).toBeGreaterThan(install);
    const copied = build.slice(0, install).join('\n');
    for (const workspace of workspaces) expect(copied).toContain(`${workspace}/package.json`);
  });

  it('migrate: only the production, non-peer, non-optional closure of @hubcap/db', () => {
    const deps = stage(read('deploy/docker/web.Dockerfile'), 'migrate-deps').join('\n');
    expect(deps).toMatch(/npm ci --omit=dev --omit=peer --omit=optional .*-w @hubcap\/db/);
  });

  it('.dockerignore keeps out secrets, dependencies, builds, test output and generated files', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const pattern of [
      '**/.env',
      '**/.env.*',
      '**/node_modules',
      '**/.next',
      '**/test-results',
      '**/coverage',
      '.git',
      '.hubcap',
      'packages/db/src/generated',
    ])
      expect(ignored).toContain(pattern);
  });
});
