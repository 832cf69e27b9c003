/**
 * State Manager's operations over awsJson: CreateAssociation, UpdateAssociation, DescribeAssociation,
 * ListAssociations, ListAssociationVersions, StartAssociationsOnce, DescribeAssociationExecutions,
 * DescribeAssociationExecutionTargets and DeleteAssociation. Requests arrive checked against the model; what is
 * checked here is AWS's rules between members and against the account's associations, documents and instances.
 * Lists page with `MaxResults` (1-50, as the model bounds it; 50 when absent) and tokens bound to their query.
 */
import { AwsError, validationException } from '../../errors.js';
import type { Operation } from '../../service.js';
import { associationVersion, checkNewAssociation } from './associations-requests.js';
import {
  descriptionWire,
  executionTargetWire,
  executionView,
  executionWire,
  listItemWire,
  overview,
  versionInfoWire,
  type ExecutionView,
  type Overview,
} from './associations-views.js';
import { AssociationStore, latest, type AssociationRecord, type AssociationRuntime } from './associations.js';
import { paginate } from './pagination.js';

type Request = Record<string, unknown>;
interface AssociationFilter {
  key: string;
  value: string;
}
interface ExecutionFilter {
  Key: string;
  Value: string;
  Type: 'EQUAL' | 'LESS_THAN' | 'GREATER_THAN';
}

export class AssociationsApi {
  readonly store: AssociationStore;

  constructor(
    private readonly runtime: AssociationRuntime,
    private readonly isManaged: (instanceId: string) => boolean,
  ) {
    this.store = new AssociationStore(runtime);
  }

  views(association: AssociationRecord): ExecutionView[] {
    return association.executions.map((e) => executionView(this.runtime.view(e.commandId)));
  }

  overviewOf(association: AssociationRecord): Overview {
    return overview(association, this.views(association));
  }

  private describe(association: AssociationRecord, version = latest(association)): Record<string, unknown> {
    return { AssociationDescription: descriptionWire(association, version, this.overviewOf(association)) };
  }

  /** By AssociationId, or (the legacy form) by document Name and InstanceId. */
  private target(request: Request): AssociationRecord {
    if (request.AssociationId !== undefined) return this.store.find(request.AssociationId);
    if (request.Name === undefined || request.InstanceId === undefined) {
      throw validationException('Specify AssociationId, or both Name and InstanceId.');
    }
    const found = this.store.all().find((a) => {
      const current = latest(a);
      return current.documentName === request.Name && current.instanceId === request.InstanceId;
    });
    if (!found) throw new AwsError('AssociationDoesNotExist', `No association of ${String(request.Name)} with ${String(request.InstanceId)}.`);
    return found;
  }

  private create(request: Request): unknown {
    checkNewAssociation(request, this.store.all(), this.isManaged);
    const version = associationVersion(request, this.runtime.documents, 1, new Date(this.runtime.nowMs()));
    const association = this.store.add(version);
    const tags = (request.Tags as Array<{ Key: string; Value: string }> | undefined) ?? [];
    if (tags.length > 0) association.tags = Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    return this.describe(association);
  }

  /** `AssociationVersion`, when given, must name the latest version (or `$LATEST`): it guards concurrent updates. */
  private update(request: Request): unknown {
    const association = this.store.find(request.AssociationId);
    const current = latest(association);
    const expected = request.AssociationVersion as string | undefined;
    if (expected !== undefined && expected !== '$LATEST' && expected !== String(current.version)) {
      throw new AwsError(
        'InvalidAssociationVersion',
        `Association ${association.associationId} is at version ${current.version}, not ${expected}: use the latest version or $LATEST.`,
      );
    }
    const now = new Date(this.runtime.nowMs());
    const version = associationVersion(request, this.runtime.documents, current.version + 1, now, current);
    this.store.addVersion(association, version);
    return this.describe(association);
  }

  private describeAssociation(request: Request): unknown {
    const association = this.target(request);
    const which = (request.AssociationVersion as string | undefined) ?? '$LATEST';
    const version = which === '$LATEST' ? latest(association) : association.versions[Number(which) - 1];
    if (!version) {
      throw new AwsError(
        'InvalidAssociationVersion',
        `Association ${association.associationId} has no version ${which}: see ListAssociationVersions.`,
      );
    }
    return this.describe(association, version);
  }

  private passes(association: AssociationRecord, o: Overview, filter: AssociationFilter): boolean {
    const current = latest(association);
    switch (filter.key) {
      case 'Name':
        return current.documentName === filter.value;
      case 'AssociationId':
        return association.associationId === filter.value;
      case 'AssociationName':
        return current.associationName === filter.value;
      case 'InstanceId':
        return current.instanceId === filter.value;
      case 'AssociationStatusName':
        return o.status === filter.value;
      case 'LastExecutedBefore':
      case 'LastExecutedAfter': {
        const at = Date.parse(filter.value);
        if (Number.isNaN(at)) throw validationException(`Value '${filter.value}' of filter ${filter.key} is not a timestamp.`);
        if (o.lastExecutionMs === undefined) return false;
        return filter.key === 'LastExecutedBefore' ? o.lastExecutionMs < at : o.lastExecutionMs > at;
      }
      default:
        // ResourceGroupName: the sandbox has no resource groups, so no association targets one.
        return false;
    }
  }

  private list(request: Request): unknown {
    const filters = (request.AssociationFilterList as AssociationFilter[] | undefined) ?? [];
    const listed = this.store
      .all()
      .map((association) => ({ association, o: this.overviewOf(association) }))
      .filter(({ association, o }) => filters.every((f) => this.passes(association, o, f)));
    const { page, NextToken } = paginate(listed, request, JSON.stringify(['ListAssociations', filters]));
    return { Associations: page.map(({ association, o }) => listItemWire(association, o)), NextToken };
  }

  private versions(request: Request): unknown {
    const association = this.store.find(request.AssociationId);
    const query = JSON.stringify(['ListAssociationVersions', association.associationId]);
    const { page, NextToken } = paginate(association.versions, request, query);
    return { AssociationVersions: page.map((v) => versionInfoWire(association, v)), NextToken };
  }

  /** Every ID must name an association before any runs. */
  private startOnce(request: Request): unknown {
    const associations = (request.AssociationIds as string[]).map((id) => this.store.find(id));
    for (const association of associations) this.store.startOnce(association);
    return {};
  }

  private executions(request: Request): unknown {
    const association = this.store.find(request.AssociationId);
    const filters = (request.Filters as ExecutionFilter[] | undefined) ?? [];
    const views = this.views(association);
    const listed = association.executions
      .map((execution, i) => ({ execution, view: views[i] }))
      .filter(({ execution, view }) => filters.every((f) => executionPasses(f, execution, view.status)))
      .reverse();
    const query = JSON.stringify(['DescribeAssociationExecutions', association.associationId, filters]);
    const { page, NextToken } = paginate(listed, request, query);
    return {
      AssociationExecutions: page.map(({ execution, view }) => executionWire(association, execution, view)),
      NextToken,
    };
  }

  private executionTargets(request: Request): unknown {
    const association = this.store.find(request.AssociationId);
    const execution = association.executions.find((e) => e.executionId === String(request.ExecutionId).toLowerCase());
    if (!execution) {
      throw new AwsError(
        'AssociationExecutionDoesNotExist',
        `Execution ${String(request.ExecutionId)} of association ${association.associationId} does not exist.`,
      );
    }
    const filters = (request.Filters as { Key: string; Value: string }[] | undefined) ?? [];
    const view = executionView(this.runtime.view(execution.commandId));
    const field = { Status: 'status', ResourceId: 'instanceId', ResourceType: 'resourceType' } as const;
    const listed = view.targets.filter((target) =>
      filters.every((f) => ({ ...target, resourceType: 'ManagedInstance' })[field[f.Key as keyof typeof field]] === f.Value),
    );
    const query = JSON.stringify(['DescribeAssociationExecutionTargets', execution.executionId, filters]);
    const { page, NextToken } = paginate(listed, request, query);
    return { AssociationExecutionTargets: page.map((t) => executionTargetWire(association, execution, t)), NextToken };
  }

  readonly operations: Record<string, Operation> = {
    CreateAssociation: (request: Request) => this.create(request),
    UpdateAssociation: (request: Request) => this.update(request),
    DescribeAssociation: (request: Request) => this.describeAssociation(request),
    ListAssociations: (request: Request) => this.list(request),
    ListAssociationVersions: (request: Request) => this.versions(request),
    StartAssociationsOnce: (request: Request) => this.startOnce(request),
    DescribeAssociationExecutions: (request: Request) => this.executions(request),
    DescribeAssociationExecutionTargets: (request: Request) => this.executionTargets(request),
    DeleteAssociation: (request: Request) => {
      this.store.delete(this.target(request));
      return {};
    },
  };
}

/** DescribeAssociationExecutions' filters: ExecutionId and Status (EQUAL), CreatedTime (EQUAL, LESS_THAN, GREATER_THAN). */
function executionPasses(
  filter: ExecutionFilter,
  execution: { executionId: string; createdAtMs: number },
  status: string,
): boolean {
  if (filter.Key !== 'CreatedTime' && filter.Type !== 'EQUAL') {
    throw validationException(`Filter ${filter.Key} only supports the EQUAL type.`);
  }
  switch (filter.Key) {
    case 'ExecutionId':
      return execution.executionId === filter.Value.toLowerCase();
    case 'Status':
      return status === filter.Value;
    default: {
      const at = Date.parse(filter.Value);
      if (Number.isNaN(at)) throw validationException(`Value '${filter.Value}' of filter CreatedTime is not a timestamp.`);
      const ms = execution.createdAtMs;
      return filter.Type === 'EQUAL' ? ms === at : filter.Type === 'LESS_THAN' ? ms < at : ms > at;
    }
  }
}
