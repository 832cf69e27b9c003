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

/**
 * Runs `step` (a bundle, usually) with the sandbox's clock stopped until `reached()` holds or the step has ended,
 * then gives the clock back its speed. What a test set up in sandbox time (a refresh in progress, a command whose
 * targets are not resolved yet) is then still so when the step gets to the point under test, however long the
 * bundle takes to start on a busy machine. `reached` is polled every 20 ms; it usually looks at `sandbox.calls`,
 * whose records are made when a call is answered, so the call it waits for has seen the held state.
 */
export async function withClockHeld<T>(sandbox: Sandbox, reached: () => boolean, step: () => Promise<T>): Promise<T> {
  const speed = sandbox.clock.getSpeed();
  sandbox.clock.setSpeed(0);
  let ended = false;
  const running = step().finally(() => {
    ended = true;
  });
  try {
    while (!ended && !reached()) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    sandbox.clock.setSpeed(speed);
  }
  return running;
}
