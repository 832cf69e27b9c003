/**
 * Test support for in-process code (not bundles): a started sandbox that `process.env` points at, reset before each
 * test, with `env` over its variables (a value of `undefined` removes one). Bundles get `sandbox.env()` through the
 * runner harness instead.
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';

export function sandboxInEnv(env: Record<string, string | undefined> = {}): Sandbox {
  const sandbox = new Sandbox();
  const saved = { ...process.env };
  beforeAll(() => sandbox.start());
  afterAll(async () => {
    process.env = saved;
    await sandbox.stop();
  });
  beforeEach(() => {
    sandbox.reset();
    process.env = { ...saved, ...sandbox.env() };
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return sandbox;
}
