-- AlterTable
ALTER TABLE "AgentReplica" ADD COLUMN     "configIssue" JSONB,
ADD COLUMN     "configVersion" INTEGER;
