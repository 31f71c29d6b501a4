import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

/** The wasm-bindgen glue records Rust panic messages here; without it a panic is an opaque TypeError. */
class PanicRegistry {
  message = '';
  get(): string {
    return this.message;
  }
  set_message(message: string): void {
    this.message = `RuntimeError: ${message}`;
  }
}

/** The few WebAssembly APIs used here; the DOM lib that declares them is not loaded in this project. */
interface WasmRuntime {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
  RuntimeError: new () => Error;
}
const wasmRuntime = (globalThis as unknown as { WebAssembly: WasmRuntime }).WebAssembly;

let glue: Promise<Glue> | undefined;

/**
 * Instantiates the engine's wasm module once per process. The package's own entry point
 * imports the .wasm file as an ES module, which Node only does with an experimental warning
 * and test runners not at all, so the module is instantiated by hand.
 */
function loadGlue(): Promise<Glue> {
  glue ??= (async () => {
    const scope = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
    scope.PRISMA_WASM_PANIC_REGISTRY ??= new PanicRegistry();
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bindings: Glue = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(join(dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await wasmRuntime.instantiate(bytes, {
      './schema_engine_bg.js': withUnrefTimers(bindings),
    });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings;
  })();
  return glue;
}

/**
 * The engine arms timeouts (10 s around each query) and never clears them; unref'd timers
 * still fire while work is pending but no longer keep a finished process alive.
 */
function withUnrefTimers(bindings: Glue): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bindings };
  for (const [name, value] of Object.entries(imports)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof value === 'function') {
      imports[name] = (...args: unknown[]) => (value(...args) as NodeJS.Timeout).unref();
    }
  }
  return imports;
}

export interface SchemaFile {
  path: string;
  content: string;
}

/**
 * Runs `fn` with a schema engine bound to the adapter factory, then frees the engine.
 * Engine errors come back as one readable line (their Prisma code first), driver errors
 * as the original driver error.
 */
export async function withSchemaEngine<T>(
  schema: SchemaFile,
  factory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadGlue();
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  // The log callback receives the engine's tracing output, which is noise for a migration run.
  const engine: SchemaEngine = await SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    () => {},
    adapter,
  ).catch((error: unknown) => {
    throw engineError(error);
  });
  try {
    return await fn(engine).catch((error: unknown) => {
      throw engineError(error);
    });
  } finally {
    engine.free();
  }
}

/** One line from an engine error: its code and message, without the Rust span trace it carries. */
function engineError(error: unknown): Error {
  const { code, message = String(error) } = error as { code?: string; message?: string };
  const panic = (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry }).PRISMA_WASM_PANIC_REGISTRY;
  if (error instanceof wasmRuntime.RuntimeError && panic?.message) {
    return new Error(`Schema engine crashed: ${panic.message}`);
  }
  const lines = message.split('\n');
  const traceStart = lines.findIndex((line) => /^\s+\d+: /.test(line));
  const text = (traceStart === -1 ? lines : lines.slice(0, traceStart))
    .filter((line) => line.trim() !== '' && line.trim() !== 'external connector error')
    .join(' ');
  const migration = /migration_name="([^"]+)"/.exec(message)?.[1];
  const where = migration ? ` (migration ${migration})` : '';
  return new Error(`${code ? `${code}: ` : ''}${text}${where}`);
}
