export * from './capture/index.ts';
export { type GridCell, type GridState, type GridWindow, readGrid } from './grid.ts';
export { BlobStore, FolderStore, type LakeStore, openStore } from './store.ts';
export {
  type Cell,
  type CellStatus,
  formatReport,
  type Problem,
  type VerifyReport,
  verify,
} from './verify.ts';
