/*
  Warnings:

  - You are about to drop the column `filesWritten` on the `AgentInstance` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "AgentInstance" DROP COLUMN "filesWritten";

-- AlterTable
ALTER TABLE "AgentReplica" ADD COLUMN     "bytesDelta" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "bytesWritten" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "deadLetteredDelta" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "eventsDelta" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "eventsWritten" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "filesDelta" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "filesWritten" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "MetricMinute" ADD COLUMN     "bytes" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "events" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "MetricSample" ADD COLUMN     "bytesDelta" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "eventsDelta" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "replicaId" TEXT;
