-- CreateEnum
CREATE TYPE "ReplayState" AS ENUM ('starting', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "Replay" (
    "id" TEXT NOT NULL,
    "topicId" TEXT NOT NULL,
    "state" "ReplayState" NOT NULL DEFAULT 'starting',
    "from" TIMESTAMP(3) NOT NULL,
    "to" TIMESTAMP(3) NOT NULL,
    "startSequences" JSONB,
    "target" JSONB NOT NULL,
    "consumerGroup" TEXT,
    "partitions" JSONB NOT NULL DEFAULT '[]',
    "message" TEXT NOT NULL DEFAULT '',
    "verify" JSONB,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Replay_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Replay_topicId_createdAt_idx" ON "Replay"("topicId", "createdAt");

-- AddForeignKey
ALTER TABLE "Replay" ADD CONSTRAINT "Replay_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "Topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Replay" ADD CONSTRAINT "Replay_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
