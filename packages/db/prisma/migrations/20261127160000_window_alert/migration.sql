-- AlterEnum
ALTER TYPE "AlertKind" ADD VALUE 'window';
