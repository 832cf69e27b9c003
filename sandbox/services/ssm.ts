import type { Sandbox } from '../server.js';
import type { Operation, Service } from '../service.js';

/** TODO: helper fills this in. */
export class SsmService implements Service {
  readonly name = 'ssm';
  readonly protocol = 'json' as const;
  readonly targetPrefix = 'AmazonSSM';

  constructor(private readonly sandbox: Sandbox) {}

  readonly operations: Record<string, Operation> = {};
}
