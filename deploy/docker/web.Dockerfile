# syntax=docker/dockerfile:1
# The control plane. Build from the repository root:
#   docker build -f deploy/docker/web.Dockerfile -t hubcap-web:0.1.0 .
#   docker build -f deploy/docker/web.Dockerfile --target migrate -t hubcap-web:0.1.0-migrate .
# `web` is Next.js's standalone server; `migrate` applies database migrations (the Helm chart's Job).

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
# Dependencies from the manifests alone (and Prisma's schema, which the postinstall generates the
# client from): a change to the sources reuses this layer.
COPY package.json package-lock.json ./
COPY apps/agent/package.json apps/agent/
COPY apps/web/package.json apps/web/
COPY packages/api/package.json packages/api/
COPY packages/db/package.json packages/db/prisma.config.ts packages/db/
COPY packages/db/prisma packages/db/prisma
COPY packages/deployer/package.json packages/deployer/
COPY packages/lake/package.json packages/lake/
COPY packages/local-azurite/package.json packages/local-azurite/
COPY packages/local-eventhubs/package.json packages/local-eventhubs/
COPY packages/platform/package.json packages/platform/
COPY packages/shared/package.json packages/shared/
RUN npm ci --no-audit --no-fund
COPY . .
RUN HUBCAP_STANDALONE=1 npx turbo run build --filter=@hubcap/web

# Only what applying migrations needs. Without --omit=peer/optional the closure of @hubcap/db is
# 392 MB (Prisma's CLI peer brings its studio with React, TypeScript, the embedded PostgreSQL
# binaries); with them 81 MB, and `migrate.ts deploy` ran against PostgreSQL from exactly that tree.
FROM node:24-bookworm-slim AS migrate-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/db/package.json packages/db/
RUN npm ci --omit=dev --omit=peer --omit=optional --ignore-scripts --no-audit --no-fund -w @hubcap/db \
  && npm cache clean --force

FROM node:24-bookworm-slim AS migrate
ENV NODE_ENV=production
WORKDIR /app
COPY --from=migrate-deps /app/node_modules ./node_modules
COPY package.json ./
COPY packages/db/package.json packages/db/prisma.config.ts packages/db/
COPY packages/db/prisma packages/db/prisma
COPY packages/db/src packages/db/src
COPY --from=build /app/packages/db/src/generated packages/db/src/generated
USER 1000:1000
CMD ["node", "packages/db/src/cli/migrate.ts", "deploy"]

FROM node:24-bookworm-slim AS web
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOSTNAME=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/apps/web/.next/standalone ./
COPY --from=build /app/apps/web/.next/static apps/web/.next/static
USER 1000:1000
EXPOSE 3000
CMD ["node", "apps/web/server.js"]
