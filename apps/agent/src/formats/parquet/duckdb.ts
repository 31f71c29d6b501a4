import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';

export interface DuckDbOptions {
  /** Folder for temporary files (spilled rows, Parquet before upload, DuckDB's own temp files). */
  spillDir: string;
  /** DuckDB worker threads; each COPY also runs on the thread that started it. */
  threads?: number;
  /** e.g. '256MB'. */
  memoryLimit?: string;
}

const OWN_DIR = /^hubcap-(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One embedded DuckDB per agent process, used only to turn spilled rows into Parquet (COPY … TO).
 * Temporary files live in `<spillDir>/hubcap-<pid>/`; folders left by killed agents are removed at start.
 */
export class DuckDbEngine {
  readonly dir: string;
  readonly #instance: DuckDBInstance;
  readonly #slots: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  #closed = false;

  private constructor(instance: DuckDBInstance, dir: string, slots: number) {
    this.#instance = instance;
    this.dir = dir;
    this.#slots = slots;
  }

  static async create(options: DuckDbOptions): Promise<DuckDbEngine> {
    await mkdir(options.spillDir, { recursive: true });
    for (const name of await readdir(options.spillDir)) {
      const pid = Number(OWN_DIR.exec(name)?.[1]);
      if (pid && pid !== process.pid && !alive(pid)) {
        await rm(join(options.spillDir, name), { recursive: true, force: true });
      }
    }
    const dir = join(options.spillDir, `hubcap-${process.pid}`);
    await mkdir(dir, { recursive: true });
    // Loaded here, not at module load: the native library costs memory that other formats never use.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 1),
      memory_limit: options.memoryLimit ?? '256MB',
      temp_directory: join(dir, 'duckdb.tmp'),
      preserve_insertion_order: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    return new DuckDbEngine(instance, dir, options.threads ?? 1);
  }

  /**
   * Runs one statement on its own connection. Statements queue for as many slots as DuckDB threads:
   * partitions flushing together would only share the same cores, and each holds a row group in memory.
   */
  async run(sql: string): Promise<void> {
    if (this.#running >= this.#slots) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#running++;
    try {
      if (this.#closed) throw new Error('DuckDB engine is closed');
      const connection = await this.#instance.connect();
      try {
        await connection.run(sql);
      } finally {
        connection.closeSync();
      }
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
