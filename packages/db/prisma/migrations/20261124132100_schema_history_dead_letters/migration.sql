-- AlterTable
ALTER TABLE "MetricSample" ADD COLUMN     "deadLettered" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "MetricMinute" ADD COLUMN     "deadLettered" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "TopicSchemaVersion" (
    "id" TEXT NOT NULL,
    "topicId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "fields" JSONB NOT NULL,
    "fieldCount" INTEGER NOT NULL,
    "changeSummary" JSONB,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "path" TEXT NOT NULL,
    "partitionId" TEXT NOT NULL,
    "agentInstanceId" TEXT,
    "reportedBy" TEXT NOT NULL,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedById" TEXT,
    "notifiedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TopicSchemaVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AgentReplica" (
    "topicId" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "deadLetteredByReason" JSONB NOT NULL DEFAULT '{}',
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AgentReplica_pkey" PRIMARY KEY ("topicId","replicaId")
);

-- CreateTable
CREATE TABLE "TopicDeadLetter" (
    "topicId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "lastAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TopicDeadLetter_pkey" PRIMARY KEY ("topicId","reason")
);

-- CreateIndex
CREATE INDEX "TopicSchemaVersion_agentInstanceId_idx" ON "TopicSchemaVersion"("agentInstanceId");

-- CreateIndex
CREATE INDEX "TopicSchemaVersion_acknowledgedById_idx" ON "TopicSchemaVersion"("acknowledgedById");

-- CreateIndex
CREATE INDEX "TopicSchemaVersion_createdAt_idx" ON "TopicSchemaVersion"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "TopicSchemaVersion_topicId_fingerprint_key" ON "TopicSchemaVersion"("topicId", "fingerprint");

-- CreateIndex
CREATE UNIQUE INDEX "TopicSchemaVersion_topicId_version_key" ON "TopicSchemaVersion"("topicId", "version");

-- CreateIndex
CREATE INDEX "AgentReplica_lastSeenAt_idx" ON "AgentReplica"("lastSeenAt");

-- AddForeignKey
ALTER TABLE "TopicSchemaVersion" ADD CONSTRAINT "TopicSchemaVersion_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicSchemaVersion" ADD CONSTRAINT "TopicSchemaVersion_agentInstanceId_fkey" FOREIGN KEY ("agentInstanceId") REFERENCES "AgentInstance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicSchemaVersion" ADD CONSTRAINT "TopicSchemaVersion_acknowledgedById_fkey" FOREIGN KEY ("acknowledgedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgentReplica" ADD CONSTRAINT "AgentReplica_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TopicDeadLetter" ADD CONSTRAINT "TopicDeadLetter_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;
