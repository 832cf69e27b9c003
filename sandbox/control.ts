/**
 * The sandbox's own HTTP API under `/_sandbox/`, for processes that do not hold the Sandbox object: a shell
 * started with `npm run sandbox`, the demo, benchmarks. Tests in the same process use the object directly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallLog } from './call-log.js';
import type { Clock } from './clock.js';
import type { Faults, FaultSpec } from './faults.js';
import type { Operation, Route, Service } from './service.js';

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

const reply = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** What the control API drives: the Sandbox, seen without importing the server. */
export interface Controlled {
  readonly calls: CallLog;
  readonly faults: Faults;
  readonly clock: Clock;
  reset(): void;
  /** IMDS's credentials document for an instance profile role, minted for `instanceId`. */
  instanceProfileCredentials(instanceId: string, roleName: string): Record<string, string>;
}

export class ControlApi implements Service {
  readonly name = 'control';
  readonly protocol = 'json' as const;
  readonly operations: Record<string, Operation> = {};
  readonly routes: Route[];

  constructor(private readonly sandbox: Controlled) {
    const post = (path: string, act: (body: Record<string, unknown>) => unknown): Route => ({
      method: 'POST',
      path,
      handle: async (req, res) => {
        try {
          reply(res, 200, (await act(await readJson(req))) ?? { ok: true });
        } catch (error) {
          reply(res, 400, { error: (error as Error).message });
        }
      },
    });
    this.routes = [
      { method: 'GET', path: '/_sandbox/calls', handle: (_req, res) => reply(res, 200, this.sandbox.calls.all()) },
      {
        method: 'GET',
        path: '/_sandbox/clock',
        handle: (_req, res) =>
          reply(res, 200, { now: this.sandbox.clock.now().toISOString(), speed: this.sandbox.clock.getSpeed() }),
      },
      post('/_sandbox/reset', () => this.sandbox.reset()),
      post('/_sandbox/faults', (body) => this.sandbox.faults.add(body as unknown as FaultSpec)),
      post('/_sandbox/faults/clear', () => this.sandbox.faults.clear()),
      post('/_sandbox/instance-credentials', (body) =>
        this.sandbox.instanceProfileCredentials(String(body.instanceId ?? ''), String(body.roleName ?? '')),
      ),
      post('/_sandbox/clock', (body) => {
        if (typeof body.speed === 'number') this.sandbox.clock.setSpeed(body.speed);
        if (typeof body.advanceMs === 'number') this.sandbox.clock.advance(body.advanceMs);
        return { now: this.sandbox.clock.now().toISOString(), speed: this.sandbox.clock.getSpeed() };
      }),
    ];
  }
}
