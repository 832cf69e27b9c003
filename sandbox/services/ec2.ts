import type { Sandbox } from '../server.js';
import type { Operation, Service } from '../service.js';

/** TODO: helper fills this in. */
export class Ec2Service implements Service {
  readonly name = 'ec2';
  readonly protocol = 'ec2' as const;
  readonly apiVersion = '2016-11-15';
  readonly xmlns = 'http://ec2.amazonaws.com/doc/2016-11-15/';

  constructor(private readonly sandbox: Sandbox) {}

  readonly operations: Record<string, Operation> = {};
}
