-- CreateEnum
CREATE TYPE "AgentErrorKind" AS ENUM ('source', 'sink', 'checkpoint', 'encoding', 'config', 'report');

-- CreateEnum
CREATE TYPE "AlertKind" AS ENUM ('lag', 'silent', 'errors');

-- AlterTable
ALTER TABLE "AgentInstance" ADD COLUMN     "filesWritten" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "MetricSample" ADD COLUMN     "filesDelta" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "PartitionState" ADD COLUMN     "bytesPerSecond" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "eventsPerSecond" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "MetricMinute" (
    "topicId" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "eventsPerSecond" DOUBLE PRECISION NOT NULL,
    "bytesPerSecond" DOUBLE PRECISION NOT NULL,
    "lagEvents" BIGINT NOT NULL,
    "lagSeconds" DOUBLE PRECISION NOT NULL,
    "files" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "samples" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MetricMinute_pkey" PRIMARY KEY ("topicId","minute")
);

-- CreateTable
CREATE TABLE "TopicError" (
    "id" BIGSERIAL NOT NULL,
    "topicId" TEXT NOT NULL,
    "agentInstanceId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "kind" "AgentErrorKind" NOT NULL,
    "message" TEXT NOT NULL,
    "partitionId" TEXT,
    "retryable" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TopicError_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TopicFile" (
    "id" BIGSERIAL NOT NULL,
    "topicId" TEXT NOT NULL,
    "agentInstanceId" TEXT,
    "path" TEXT NOT NULL,
    "partitionId" TEXT NOT NULL,
    "events" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "firstSequenceNumber" BIGINT NOT NULL,
    "lastSequenceNumber" BIGINT NOT NULL,
    "committedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TopicFile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "topicId" TEXT NOT NULL,
    "kind" "AlertKind" NOT NULL,
    "message" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),
    "notifiedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "MetricMinute_minute_idx" ON "MetricMinute"("minute");

-- CreateIndex
CREATE INDEX "TopicError_topicId_at_idx" ON "TopicError"("topicId", "at");

-- CreateIndex
CREATE INDEX "TopicError_agentInstanceId_idx" ON "TopicError"("agentInstanceId");

-- CreateIndex
CREATE INDEX "TopicError_at_idx" ON "TopicError"("at");

-- CreateIndex
CREATE INDEX "TopicFile_topicId_committedAt_idx" ON "TopicFile"("topicId", "committedAt");

-- CreateIndex
CREATE INDEX "TopicFile_agentInstanceId_idx" ON "TopicFile"("agentInstanceId");

-- CreateIndex
CREATE INDEX "TopicFile_committedAt_idx" ON "TopicFile"("committedAt");

-- CreateIndex
CREATE INDEX "Alert_topicId_resolvedAt_idx" ON "Alert"("topicId", "resolvedAt");

-- CreateIndex
CREATE INDEX "Alert_openedAt_idx" ON "Alert"("openedAt");

-- AddForeignKey
ALTER TABLE "MetricMinute" ADD CONSTRAINT "MetricMinute_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicError" ADD CONSTRAINT "TopicError_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicError" ADD CONSTRAINT "TopicError_agentInstanceId_fkey" FOREIGN KEY ("agentInstanceId") REFERENCES "AgentInstance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicFile" ADD CONSTRAINT "TopicFile_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicFile" ADD CONSTRAINT "TopicFile_agentInstanceId_fkey" FOREIGN KEY ("agentInstanceId") REFERENCES "AgentInstance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

