export type FaultKind = 'throttle' | 'server-error' | 'drop' | 'latency';

export interface FaultSpec {
  kind: FaultKind;
  /** Only calls to this service (`sts`, `ec2`, `autoscaling`, `ssm`, `oidc`). */
  service?: string;
  /** Only calls to this operation. */
  operation?: string;
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
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

/** Decides, per call, which injected faults apply. */
export class Faults {
  private active: ActiveFault[] = [];
  private seed = 0x2545f491;

  add(spec: FaultSpec): void {
    if (spec.count === undefined && spec.rate === undefined) {
      throw new Error('a fault needs a count or a rate');
    }
    this.active.push({ ...spec, remaining: spec.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.active = [];
  }

  /** The faults that hit this call, consuming counted ones. */
  take(service: string, operation: string): FaultSpec[] {
    const hits: FaultSpec[] = [];
    for (const fault of this.active) {
      if (fault.service && fault.service !== service) continue;
      if (fault.operation && fault.operation !== operation) continue;
      if (fault.remaining <= 0) continue;
      if (fault.rate !== undefined && this.random() >= fault.rate) continue;
      fault.remaining -= 1;
      hits.push(fault);
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
