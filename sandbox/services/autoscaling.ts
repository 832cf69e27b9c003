import type { Sandbox } from '../server.js';
import type { Operation, Service } from '../service.js';

/** TODO: helper fills this in. */
export class AutoScalingService implements Service {
  readonly name = 'autoscaling';
  readonly protocol = 'query' as const;
  readonly apiVersion = '2011-01-01';
  readonly xmlns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

  constructor(private readonly sandbox: Sandbox) {}

  readonly operations: Record<string, Operation> = {};
}
