# syntax=docker/dockerfile:1
# The ingestion agent. Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t hubcap-agent:0.1.0 .
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/agent/package.json apps/agent/
COPY packages/shared/package.json packages/shared/
COPY packages/log/package.json packages/log/
# Only the agent's production dependencies; scripts off (the root postinstall generates Prisma's client).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w @hubcap/agent -w @hubcap/shared -w @hubcap/log \
  && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY apps/agent/package.json apps/agent/
COPY apps/agent/src apps/agent/src
COPY packages/shared/package.json packages/shared/
COPY packages/shared/src packages/shared/src
COPY packages/log/package.json packages/log/
COPY packages/log/src packages/log/src
# The image's own non-root user (uid 1000), numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# `node`, not npm: SIGTERM reaches the agent, which drains open files before exiting.
CMD ["node", "apps/agent/src/main.ts"]
