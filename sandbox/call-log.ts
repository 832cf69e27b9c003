export interface CallRecord {
  seq: number;
  /** Sandbox clock time, ISO 8601. */
  at: string;
  service: string;
  operation: string;
  /** The request parameters as the protocol decoded them. */
  params: Record<string, unknown>;
  /** The assumed role ARN for credentials the sandbox issued, else the access key ID, else `anonymous`. */
  caller: string;
  status: number;
  errorCode?: string;
  /** The client's `User-Agent` (and the SDK's `x-amz-user-agent`), to check what identifies itself how. */
  userAgent?: string;
}

/** Every call the sandbox answered, in order, so tests can count calls and prove nothing changed. */
export class CallLog {
  private records: CallRecord[] = [];

  add(record: Omit<CallRecord, 'seq'>): CallRecord {
    const full = { seq: this.records.length + 1, ...record };
    this.records.push(full);
    return full;
  }

  all(): CallRecord[] {
    return [...this.records];
  }

  of(operation: string, service?: string): CallRecord[] {
    return this.records.filter((r) => r.operation === operation && (service === undefined || r.service === service));
  }

  operations(): string[] {
    return this.records.map((r) => `${r.service}:${r.operation}`);
  }

  clear(): void {
    this.records = [];
  }
}

/** Operations that change state; a rejected input must not have made any of these. */
export const isMutating = (operation: string): boolean =>
  !/^(Describe|Get|List)/.test(operation) && operation !== 'AssumeRoleWithWebIdentity';
