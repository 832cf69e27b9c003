/**
 * EC2's view of EBS snapshots (`DescribeSnapshots`, `DeleteSnapshot`): the snapshots the EBS direct APIs write,
 * per region (the region the request was signed for).
 */
import { AwsError } from '../../errors.js';
import { readShape } from '../../models/validate.js';
import type { Account, CallContext, Operation } from '../../service.js';
import type { Snapshot, SnapshotStore } from '../ebs/snapshots.js';
import { checkFilterName, dryRun, matchesFilter, paginate, type Filter } from './ec2.js';

const SNAPSHOT_ID = /^snap-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SNAPSHOT_FILTERS = ['snapshot-id', 'status', 'owner-id', 'description', 'volume-id', 'volume-size', 'encrypted', 'progress', 'start-time', 'tag-key', /^tag:.+/];

export const snapshotNotFound = (id: string): AwsError =>
  new AwsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);

export function checkSnapshotId(id: string): void {
  if (!SNAPSHOT_ID.test(id)) throw new AwsError('InvalidSnapshotID.Malformed', `Invalid id: "${id}" (expecting "snap-...")`);
}

/** EC2's tag set: `{ key, value }` items, omitted when there are none. */
export const tagItems = (tags: Map<string, string>): { key: string; value: string }[] | undefined =>
  tags.size === 0 ? undefined : [...tags].map(([key, value]) => ({ key, value }));

/** A filter as `readShape` reads it (model names); `matchesFilter` takes the wire's `Value`. */
export interface ModelFilter {
  Name?: string;
  Values?: string[];
}

export const wireFilters = (filters: ModelFilter[] | undefined): Filter[] =>
  (filters ?? []).map((f) => ({ Name: f.Name, Value: f.Values ?? [] }));

/** Which image uses a snapshot, so that it cannot be deleted: an image ID, or undefined. */
export type SnapshotUser = (region: string, snapshotId: string) => string | undefined;

interface DescribeSnapshotsRequest {
  SnapshotIds?: string[];
  OwnerIds?: string[];
  Filters?: ModelFilter[];
  MaxResults?: number;
  NextToken?: string;
}

export class SnapshotOperations {
  constructor(
    private readonly account: Account,
    private readonly store: SnapshotStore,
    private readonly usedBy: SnapshotUser,
  ) {}

  private region = (call: CallContext): string => call.region ?? this.account.region;

  private filterValues(snapshot: Snapshot, name: string): string[] {
    const state = this.store.stateOf(snapshot);
    const values: Record<string, string | undefined> = {
      'snapshot-id': snapshot.id,
      status: state,
      'owner-id': snapshot.ownerId,
      description: snapshot.description,
      'volume-id': snapshot.volumeId,
      'volume-size': String(snapshot.volumeSize),
      encrypted: String(snapshot.encrypted),
      progress: state === 'completed' ? '100%' : '0%',
      'start-time': snapshot.startTime.toISOString(),
    };
    if (name === 'tag-key') return [...snapshot.tags.keys()];
    if (name.startsWith('tag:')) {
      const value = snapshot.tags.get(name.slice('tag:'.length));
      return value === undefined ? [] : [value];
    }
    const value = values[name];
    return value === undefined ? [] : [value];
  }

  private wire(snapshot: Snapshot): Record<string, unknown> {
    const state = this.store.stateOf(snapshot);
    return {
      snapshotId: snapshot.id,
      volumeId: snapshot.volumeId,
      status: state,
      startTime: snapshot.startTime,
      progress: state === 'completed' ? '100%' : '0%',
      ownerId: snapshot.ownerId,
      volumeSize: snapshot.volumeSize,
      description: snapshot.description,
      encrypted: snapshot.encrypted,
      tagSet: tagItems(snapshot.tags),
      storageTier: 'standard',
    };
  }

  private describe(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'DescribeSnapshotsRequest', params) as DescribeSnapshotsRequest;
    const ids = request.SnapshotIds ?? [];
    ids.forEach(checkSnapshotId);
    const filters = wireFilters(request.Filters);
    filters.forEach((f) => checkFilterName(f, SNAPSHOT_FILTERS));
    dryRun(params.DryRun as string | undefined);
    const region = this.region(call);
    const missing = ids.find((id) => !this.store.get(region, id));
    if (missing) throw snapshotNotFound(missing);
    const owners = request.OwnerIds ?? [];
    const mine = owners.length === 0 || owners.some((o) => o === 'self' || o === this.account.accountId);
    const matching = this.store
      .inRegion(region)
      .filter(
        (s) =>
          mine &&
          (ids.length === 0 || ids.includes(s.id)) &&
          filters.every((f) => matchesFilter(f, this.filterValues(s, f.Name ?? ''))),
      );
    const page = paginate(matching, request.MaxResults, request.NextToken);
    return { snapshotSet: page.items.map((s) => this.wire(s)), nextToken: page.nextToken };
  }

  private delete(params: { SnapshotId: string; DryRun?: string }, call: CallContext): Record<string, unknown> {
    checkSnapshotId(params.SnapshotId);
    const region = this.region(call);
    const snapshot = this.store.get(region, params.SnapshotId);
    if (!snapshot) throw snapshotNotFound(params.SnapshotId);
    dryRun(params.DryRun);
    const image = this.usedBy(region, snapshot.id);
    if (image) {
      throw new AwsError('InvalidSnapshot.InUse', `The snapshot ${snapshot.id} is currently in use by ${image}`);
    }
    this.store.delete(snapshot.id);
    return { return: true };
  }

  readonly operations: Record<string, Operation> = {
    DescribeSnapshots: (params: Record<string, unknown>, call: CallContext) => this.describe(params, call),
    DeleteSnapshot: (params: { SnapshotId: string; DryRun?: string }, call: CallContext) => this.delete(params, call),
  };
}
