-- AlterTable
ALTER TABLE "PartitionState" ADD COLUMN     "checkpointedAt" TIMESTAMP(3),
ADD COLUMN     "probedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Topic" ADD COLUMN     "sourceKey" TEXT NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "LagSample" (
    "id" BIGSERIAL NOT NULL,
    "topicId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "lagEvents" BIGINT NOT NULL,
    "lagSeconds" DOUBLE PRECISION NOT NULL,
    "enqueued" BIGINT NOT NULL,
    "checkpointed" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LagSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "LagSample_topicId_at_idx" ON "LagSample"("topicId", "at");

-- CreateIndex
CREATE INDEX "LagSample_at_idx" ON "LagSample"("at");

-- CreateIndex
CREATE INDEX "Topic_sourceKey_idx" ON "Topic"("sourceKey");

-- AddForeignKey
ALTER TABLE "LagSample" ADD CONSTRAINT "LagSample_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: the source each topic's current config reads, from its fields (a sealed connection string's
-- endpoint is used from the next save on). Topics that already share one keep it and show an error.
UPDATE "Topic" t SET "sourceKey" = lower(concat_ws('/',
    v.config->'source'->>'fullyQualifiedNamespace',
    v.config->'source'->>'eventHubName',
    coalesce(v.config->'source'->>'consumerGroup', '$Default')))
FROM "TopicConfigVersion" v
WHERE v."topicId" = t.id AND v.version = t."configVersion";
