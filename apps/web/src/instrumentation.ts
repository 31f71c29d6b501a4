/** Runs once per server process at start; the Node.js-only work lives in instrumentation-node.ts. */
export async function register() {
  // This exact condition lets Next leave the Node.js modules out of the Edge bundle.
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { registerNode } = await import('./instrumentation-node.ts');
    await registerNode();
  }
}
