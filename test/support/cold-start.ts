/**
 * Loads a Lambda entry file afresh, as a cold start does: its own module registry (so
 * module-level code runs again) and `env` as process.env while it loads.
 */
export async function coldStart(
  entry: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  const saved = process.env;
  process.env = { ...env };
  try {
    let loaded: Record<string, unknown> = {};
    await jest.isolateModulesAsync(async () => {
      loaded = (await import(entry)) as Record<string, unknown>;
    });
    return loaded;
  } finally {
    process.env = saved;
  }
}
