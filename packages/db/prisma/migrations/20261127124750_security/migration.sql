-- Tokens people minted before this migration only report from now on; the deployer's tokens get
-- config access again when the control plane starts (it re-applies every deployment with a new token).
-- AlterTable
ALTER TABLE "AgentInstance" ADD COLUMN     "configAccess" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "mustChangePassword" BOOLEAN NOT NULL DEFAULT false;
