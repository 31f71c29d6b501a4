# syntax=docker/dockerfile:1
# `hubcap verify`: audits a topic's files and completeness manifests, independently of the agent.
# Build from the repository root:
#   docker build -f deploy/docker/verify.Dockerfile -t hubcap-verify:0.1.0 .
# Run against Blob Storage (exit code 0: complete or open; 1: a problem; 2: cannot run):
#   docker run --rm hubcap-verify:0.1.0 verify "$AZURE_STORAGE_CONNECTION_STRING" lake --container raw \
#     --template 'topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}' --json
# or against a local folder mounted read-only:
#   docker run --rm -v "$PWD/lake:/lake:ro" hubcap-verify:0.1.0 verify /lake '' --template '…'

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/lake/package.json packages/lake/
COPY packages/shared/package.json packages/shared/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w @hubcap/lake -w @hubcap/shared \
  && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY packages/lake/package.json packages/lake/
COPY packages/lake/src packages/lake/src
COPY packages/shared/package.json packages/shared/
COPY packages/shared/src packages/shared/src
USER 1000:1000
ENTRYPOINT ["node", "packages/lake/src/cli.ts"]
CMD ["--help"]
