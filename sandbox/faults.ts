/**
 * `latency` holds a request for `latencyMs`, then answers it as usual; `hang` holds it, unanswered and not carried
 * out, until the client gives up and closes the connection (or the sandbox stops), as a black-holed route or a
 * stuck load balancer does; `html` answers as a proxy in front of AWS does when it fails: an HTML page with the
 * status `status` (default 502), not AWS's XML or JSON, and the call is not carried out; `lost-answer` carries the call
 * out and then holds its answer as `hang` does, as when a connection dies after AWS acted on a request.
 */
export type FaultKind = 'throttle' | 'server-error' | 'drop' | 'latency' | 'hang' | 'html' | 'lost-answer';

export interface FaultSpec {
  kind: FaultKind;
  /** Only calls to this service (`sts`, `ec2`, `autoscaling`, `ssm`, `ebs`, `oidc`). */
  service?: string;
  /** Only calls to this operation. */
  operation?: string;
  /** Let this many matching calls through first (a wait's first checks succeed, later ones fail). */
  after?: number;
  /** Apply to the next N matching calls... */
  count?: number;
  /** ...or to this share (0-1) of matching calls, drawn from a seeded generator. */
  rate?: number;
  /** For `latency`: how long to hold the request before answering it. */
  latencyMs?: number;
  /** For `throttle` and `server-error`: override the service's usual code. */
  code?: string;
  /** For `throttle` and `server-error`: override the usual message (AWS messages quote names and values given). */
  message?: string;
  /** For `html`: the HTTP status of the page. Default 502. */
  status?: number;
}

/** A fault that hit a call, in the order they hit. */
export interface TakenFault {
  kind: FaultKind;
  service: string;
  operation: string;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
  skip: number;
}

/** Decides, per call, which injected faults apply. */
export class Faults {
  private active: ActiveFault[] = [];
  private seed = 0x2545f491;
  /** Every fault that hit a call since the last `clear`, including calls the call log does not record (OIDC). */
  readonly taken: TakenFault[] = [];

  add(spec: FaultSpec): void {
    if (spec.count === undefined && spec.rate === undefined) {
      throw new Error('a fault needs a count or a rate');
    }
    this.active.push({ ...spec, remaining: spec.count ?? Number.POSITIVE_INFINITY, skip: spec.after ?? 0 });
  }

  clear(): void {
    this.active = [];
    this.taken.length = 0;
  }

  /** The faults that hit this call, consuming counted ones. */
  take(service: string, operation: string): FaultSpec[] {
    const hits: FaultSpec[] = [];
    for (const fault of this.active) {
      if (fault.service && fault.service !== service) continue;
      if (fault.operation && fault.operation !== operation) continue;
      if (fault.remaining <= 0) continue;
      if (fault.skip > 0) {
        fault.skip -= 1;
        continue;
      }
      if (fault.rate !== undefined && this.random() >= fault.rate) continue;
      fault.remaining -= 1;
      hits.push(fault);
      this.taken.push({ kind: fault.kind, service, operation });
    }
    this.active = this.active.filter((f) => f.remaining > 0);
    return hits;
  }

  /** xorshift32: repeatable runs for the same sequence of calls. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 0x100000000;
  }
}
