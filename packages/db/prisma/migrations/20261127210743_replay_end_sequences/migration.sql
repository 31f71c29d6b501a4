-- AlterTable
ALTER TABLE "Replay" ADD COLUMN     "endSequences" JSONB;
