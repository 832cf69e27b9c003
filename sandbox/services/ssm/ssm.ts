/**
 * Systems Manager over awsJson1_1 (`X-Amz-Target: AmazonSSM.<Op>`): Command documents, Run Command with its
 * time-driven state machine (see commands.ts) over instances and outcomes scripted per test, and reading
 * Parameter Store.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../errors.js';
import type { Account, Operation, Service } from '../../service.js';
import { resolveCommandParameters } from './command-parameters.js';
import {
  commandWire,
  invocationWire,
  pluginInvocationWire,
  type CommandRecordView,
} from './command-views.js';
import {
  commandAt,
  isTerminalCommand,
  schedule,
  type CommandPlan,
  type CommandView,
  type InvocationOutcome,
  type InvocationView,
  type Schedule,
} from './commands.js';
import {
  DocumentStore,
  describeDocument,
  getDocument,
  type DocumentFormat,
  type DocumentStep,
  type DocumentVersion,
} from './documents.js';
import { paginate } from './pagination.js';
import { AssociationsApi } from './associations-api.js';
import { matchesTargets, type RunInput } from './associations.js';
import { ParameterStore, type ParameterType } from './parameter-store.js';
import { validationException } from '../../errors.js';

export type PingStatus = 'Online' | 'ConnectionLost' | 'Inactive';

export interface OutcomeContext {
  instanceId: string;
  tags: Record<string, string>;
  /** The command's parameters after defaults, as the instance receives them. */
  parameters: Record<string, string[]>;
  documentName: string;
  commandId: string;
}

/** An instance's scripted answer to a command, or a function of the command choosing one. */
export type OutcomeScript = InvocationOutcome | ((context: OutcomeContext) => InvocationOutcome);

export interface ManagedInstance {
  instanceId: string;
  tags: Record<string, string>;
  /**
   * Online by default. ConnectionLost instances accept commands that end Undeliverable (unless scripted
   * otherwise); Inactive ones are refused by ID (InvalidInstanceId) and never match tags.
   */
  pingStatus: PingStatus;
  /** Success (10 s, exit 0) when absent. */
  outcome?: OutcomeScript;
}

/** A SendCommand the sandbox accepted, with what reached the instances. */
export interface SentCommand extends CommandRecordView {
  documentVersion: number;
  documentHash: string;
  /** Parameters after defaults, as every instance receives them. */
  parameters: Record<string, string[]>;
  /** The instances the command runs on, in the order they are served (tag targets resolved at send time). */
  resolvedInstanceIds: string[];
  plan: CommandPlan;
  /** Run for a State Manager association execution: not listed by ListCommands, read by its CommandId. */
  association: boolean;
}

const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
const DEFAULT_EXECUTION_TIMEOUT_SECONDS = 3600;
const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 3600;
const TARGETS_FORMAT =
  'Targets must be specified in one of the following formats: 1) 1 target with "Key=InstanceIds" and "Values=" ' +
  'a list of up to 50 instance IDs, or 2) Up to 5 targets, each of which can be either ' +
  '"Key=tag:<key>,Values=<tag_values>" or "Key=tag-key,Values=<tag_keys>".';
type FilterKey = 'InvokedAfter' | 'InvokedBefore' | 'Status' | 'ExecutionStage' | 'DocumentName';

interface Target {
  Key: string;
  /** Optional in the model: checkTargets refuses a target without values. */
  Values: string[];
}

/** What SendCommand and an association execution both hand the queue. */
interface Launch {
  request: Record<string, unknown>;
  document: { name: string };
  version: DocumentVersion;
  parameters: Record<string, string[]>;
  chosen: ManagedInstance[];
  byTargets: boolean;
  targets: Target[];
  requestedAt: Date;
  deliveryTimeoutSeconds: number;
  association: boolean;
}

interface Filter {
  key: FilterKey;
  value: string;
}

export class SsmService implements Service {
  readonly name = 'ssm';
  readonly protocol = 'json' as const;
  readonly targetPrefix = 'AmazonSSM';
  readonly documents = new DocumentStore();
  readonly parameterStore = new ParameterStore();
  readonly instances = new Map<string, ManagedInstance>();
  private readonly sent: SentCommand[] = [];
  private readonly schedules = new Map<string, Schedule>();
  /** State Manager: associations and their executions, run as commands of this service. */
  readonly associations: AssociationsApi = new AssociationsApi(
    {
      nowMs: () => this.sandbox.clock.nowMs(),
      documents: this.documents,
      instances: () => this.instances.values(),
      run: (input) => this.runForAssociation(input),
      view: (commandId) => this.state(commandId),
      cancel: (commandId, atMs) => this.cancelAt(this.command(commandId), atMs),
    },
    (instanceId) => (this.instances.get(instanceId)?.pingStatus ?? 'Inactive') !== 'Inactive',
  );

  constructor(private readonly sandbox: Account) {}

  addInstance(input: {
    instanceId: string;
    tags?: Record<string, string>;
    pingStatus?: PingStatus;
    outcome?: OutcomeScript;
  }): ManagedInstance {
    if (!INSTANCE_ID.test(input.instanceId)) throw new Error(`not an instance ID SSM accepts: ${input.instanceId}`);
    const instance: ManagedInstance = {
      instanceId: input.instanceId,
      tags: { ...input.tags },
      pingStatus: input.pingStatus ?? 'Online',
      outcome: input.outcome,
    };
    this.instances.set(instance.instanceId, instance);
    this.associations.store.instanceAdded(instance);
    return instance;
  }

  /** Changes what an instance does with commands sent from now on. */
  setOutcome(instanceId: string, outcome: OutcomeScript | undefined): void {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`no instance ${instanceId} in the sandbox`);
    instance.outcome = outcome;
  }

  putParameter(input: { name: string; value: string; type?: ParameterType }): void {
    this.parameterStore.put(input, this.sandbox.clock.now());
  }

  /** Seeds a document without a logged call (as if created earlier by someone else). */
  createDocument(input: { name: string; content: string; format?: DocumentFormat }): void {
    const request = { Name: input.name, Content: input.content, DocumentFormat: input.format };
    this.documents.create(request, this.sandbox.clock.now());
  }

  /** Every command sent, oldest first. */
  get commands(): readonly SentCommand[] {
    return this.sent;
  }

  command(commandId: string): SentCommand {
    const command = this.sent.find((c) => c.commandId === commandId);
    if (!command) throw new Error(`no command ${commandId} was sent`);
    return command;
  }

  /** A command's status and invocations at the sandbox's current time. */
  state(commandId: string): CommandView {
    return this.viewOf(this.command(commandId));
  }

  private viewOf(command: SentCommand): CommandView {
    let sched = this.schedules.get(command.commandId);
    if (!sched) {
      sched = schedule(command.plan);
      this.schedules.set(command.commandId, sched);
    }
    return commandAt(sched, this.sandbox.clock.nowMs());
  }

  private findCommand(commandId: unknown): SentCommand {
    const command = this.sent.find((c) => c.commandId === commandId);
    if (!command) throw new AwsError('InvalidCommandId', `Command ${String(commandId)} does not exist.`);
    return command;
  }

  private outcomeFor(
    instance: ManagedInstance,
    context: Omit<OutcomeContext, 'instanceId' | 'tags'>,
  ): InvocationOutcome {
    const script = instance.outcome;
    if (typeof script === 'function') {
      return script({ ...context, instanceId: instance.instanceId, tags: { ...instance.tags } });
    }
    if (script) return script;
    return instance.pingStatus === 'ConnectionLost' ? { status: 'Undeliverable' } : { status: 'Success' };
  }

  /** Explicit IDs must all be managed instances SSM can reach. */
  private explicitInstances(ids: unknown[]): ManagedInstance[] {
    const unique = [...new Set(ids as string[])];
    const invalid = unique.filter((id) => (this.instances.get(id)?.pingStatus ?? 'Inactive') === 'Inactive');
    if (invalid.length > 0) {
      throw new AwsError(
        'InvalidInstanceId',
        `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.sandbox.accountId}`,
      );
    }
    return unique.map((id) => this.instances.get(id)!);
  }

  /** Tag targets: values ORed within a target, targets ANDed. */
  private matchTargets(targets: Target[]): ManagedInstance[] {
    return [...this.instances.values()].filter((instance) => matchesTargets(instance, targets));
  }

  private checkTargets(value: unknown): Target[] {
    const targets = value as Target[];
    // The model has checked the members' types and lengths; the forms of a key are Run Command's own.
    for (const target of targets) {
      const valid =
        (target.Values ?? []).length > 0 &&
        (/^tag:.+/.test(target.Key) ||
          target.Key === 'tag-key' ||
          (/^instanceids$/i.test(target.Key) && targets.length === 1));
      if (!valid) throw new AwsError('ValidationException', TARGETS_FORMAT);
    }
    return targets;
  }

  private sendCommand(request: Record<string, unknown>): Record<string, unknown> {
    const targets = this.checkTargets(request.Targets ?? []);
    const ids = (request.InstanceIds as unknown[] | undefined) ?? [];
    if ((ids.length > 0) === (targets.length > 0)) {
      throw new AwsError('ValidationException', 'Specify exactly one of InstanceIds or Targets.');
    }

    const { document, version } = this.documents.resolve(request.DocumentName, request.DocumentVersion);
    checkDocumentHash(request, document.name, version);
    const parameters = resolveCommandParameters(
      version.document.parameters,
      request.Parameters as Record<string, string[]> | undefined,
    );

    // An InstanceIds target names its instances (unknown ones are refused) but, like tags, resolves after the send.
    const byIdTarget = targets.length === 1 && /^instanceids$/i.test(targets[0].Key);
    const byTargets = targets.length > 0;
    const named = byIdTarget ? targets[0].Values : ids;
    const chosen = byTargets && !byIdTarget ? this.matchTargets(targets) : this.explicitInstances(named);

    const deliveryTimeoutSeconds = (request.TimeoutSeconds as number | undefined) ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS;
    const requestedAt = this.sandbox.clock.now();
    const launch = { request, document, version, parameters, chosen, byTargets, targets, requestedAt, deliveryTimeoutSeconds };
    const command = this.launch({ ...launch, association: false });
    return { Command: commandWire(command, this.viewOf(command), this.sandbox.region) };
  }

  /** An association execution's command: the association's targets resolved now, delivered within the default timeout. */
  private runForAssociation(input: RunInput): string {
    const command = this.launch({
      request: input.request,
      document: input.document,
      version: input.version,
      parameters: input.parameters,
      chosen: input.instanceIds.map((id) => this.instances.get(id)!),
      byTargets: true,
      targets: input.request.Targets as Target[],
      requestedAt: new Date(input.requestedAtMs),
      deliveryTimeoutSeconds: DEFAULT_DELIVERY_TIMEOUT_SECONDS,
      association: true,
    });
    return command.commandId;
  }

  /** Puts a command in the queue: its plan, with each instance's scripted outcome chosen now. */
  private launch(input: Launch): SentCommand {
    const { request, document, version, parameters, chosen, byTargets, targets, requestedAt } = input;
    const { deliveryTimeoutSeconds } = input;
    const commandId = randomUUID();
    const executionTimeoutSeconds = executionTimeout(version.document.steps, parameters);
    const context = { parameters, documentName: document.name, commandId };
    const command: SentCommand = {
      commandId,
      request,
      documentName: document.name,
      documentVersion: version.version,
      documentHash: version.sha256,
      steps: version.document.steps,
      parameters,
      requestedAt,
      expiresAfter: new Date(requestedAt.getTime() + (deliveryTimeoutSeconds + executionTimeoutSeconds) * 1000),
      instanceIds: byTargets ? [] : chosen.map((i) => i.instanceId),
      targets: byTargets ? targets : [],
      timeoutSeconds: deliveryTimeoutSeconds,
      resolvedInstanceIds: chosen.map((i) => i.instanceId),
      plan: {
        sentAtMs: requestedAt.getTime(),
        byTargets,
        targets: chosen.map((instance) => ({
          instanceId: instance.instanceId,
          outcome: this.outcomeFor(instance, context),
        })),
        maxConcurrency: (request.MaxConcurrency as string | undefined) ?? '50',
        maxErrors: (request.MaxErrors as string | undefined) ?? '0',
        deliveryTimeoutSeconds,
        executionTimeoutSeconds,
        cancellations: [],
      },
      association: input.association,
    };
    this.sent.push(command);
    return command;
  }

  private filters(value: unknown, allowExecutionStage: boolean): Filter[] {
    if (value === undefined) return [];
    const filters = value as Filter[];
    for (const filter of filters) {
      if (filter.key === 'ExecutionStage' && !allowExecutionStage) {
        throw new AwsError('InvalidFilterKey', 'The ExecutionStage filter can only be used with ListCommands.');
      }
      if ((filter.key === 'InvokedAfter' || filter.key === 'InvokedBefore') && Number.isNaN(Date.parse(filter.value))) {
        throw validationException(
          `Value '${filter.value}' of filter ${filter.key} is not a timestamp such as 2021-07-07T00:00:00Z`,
        );
      }
    }
    return filters;
  }

  /** Whether a command (or one invocation of it) passes the ListCommands/ListCommandInvocations filters. */
  private passes(filters: Filter[], command: SentCommand, status: string, details: string, terminal: boolean): boolean {
    return filters.every(({ key, value }) => {
      switch (key) {
        case 'InvokedAfter':
          return command.requestedAt.getTime() >= Date.parse(value);
        case 'InvokedBefore':
          return command.requestedAt.getTime() <= Date.parse(value);
        case 'Status':
          return value === status || value === details;
        case 'ExecutionStage':
          return value === 'Complete' ? terminal : value === 'Executing' ? !terminal : false;
        case 'DocumentName':
          return value === command.documentName;
      }
    });
  }

  /** The commands ListCommands and ListCommandInvocations list: those sent with SendCommand. */
  private newestFirst(): SentCommand[] {
    return this.sent.filter((c) => !c.association).reverse();
  }

  private listCommands(request: Record<string, unknown>): Record<string, unknown> {
    const filters = this.filters(request.Filters, true);
    const candidates = request.CommandId === undefined ? this.newestFirst() : [this.findCommand(request.CommandId)];
    const listed = candidates
      .map((command) => ({ command, view: this.viewOf(command) }))
      .filter(({ command, view }) => {
        if (request.InstanceId !== undefined && !view.invocations.some((v) => v.instanceId === request.InstanceId)) {
          return false;
        }
        return this.passes(filters, command, view.status, view.statusDetails, isTerminalCommand(view));
      });
    const query = JSON.stringify(['ListCommands', request.CommandId, request.InstanceId, filters]);
    const { page, NextToken } = paginate(listed, request, query);
    return { Commands: page.map(({ command, view }) => commandWire(command, view, this.sandbox.region)), NextToken };
  }

  private listCommandInvocations(request: Record<string, unknown>): Record<string, unknown> {
    const filters = this.filters(request.Filters, false);
    const commands = request.CommandId === undefined ? this.newestFirst() : [this.findCommand(request.CommandId)];
    const listed: { command: SentCommand; invocation: InvocationView }[] = [];
    for (const command of commands) {
      for (const invocation of this.viewOf(command).invocations) {
        if (request.InstanceId !== undefined && invocation.instanceId !== request.InstanceId) continue;
        const terminal = !['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(invocation.status);
        if (!this.passes(filters, command, invocation.status, invocation.statusDetails, terminal)) continue;
        listed.push({ command, invocation });
      }
    }
    const details = request.Details === true;
    const query = JSON.stringify(['ListCommandInvocations', request.CommandId, request.InstanceId, filters, details]);
    const { page, NextToken } = paginate(listed, request, query);
    return {
      CommandInvocations: page.map(({ command, invocation }) =>
        invocationWire(command, invocation, details, this.sandbox.region),
      ),
      NextToken,
    };
  }

  private getCommandInvocation(request: Record<string, unknown>): Record<string, unknown> {
    const command = this.sent.find((c) => c.commandId === request.CommandId);
    const invocation = command && this.viewOf(command).invocations.find((v) => v.instanceId === request.InstanceId);
    if (!command || !invocation) {
      throw new AwsError(
        'InvocationDoesNotExist',
        'The command ID and managed node ID you specified didn\'t match any invocations.',
      );
    }
    const stepNames = command.steps.map((s) => s.name);
    const pluginName =
      (request.PluginName as string | undefined) ?? (stepNames.length === 1 ? stepNames[0] : undefined);
    if (pluginName === undefined || !stepNames.includes(pluginName)) {
      throw new AwsError(
        'InvalidPluginName',
        pluginName === undefined
          ? `Document ${command.documentName} has several steps; name one as PluginName: ${stepNames.join(', ')}.`
          : `Document ${command.documentName} has no step ${pluginName}.`,
      );
    }
    return pluginInvocationWire(command, invocation, pluginName, this.sandbox.clock.nowMs(), this.sandbox.region);
  }

  /** Stops what has not run and interrupts what is running; a finished command is left as it is. */
  private cancelCommand(request: Record<string, unknown>): Record<string, unknown> {
    const command = this.findCommand(request.CommandId);
    const ids = (request.InstanceIds as string[] | undefined) ?? [];
    const unknown = ids.filter((id) => !command.resolvedInstanceIds.includes(id));
    if (unknown.length > 0) {
      throw new AwsError('InvalidInstanceId', `Command ${command.commandId} does not target ${unknown.join(', ')}.`);
    }
    if (isTerminalCommand(this.viewOf(command))) return {};
    this.cancelAt(command, this.sandbox.clock.nowMs(), ids);
    return {};
  }

  private cancelAt(command: SentCommand, atMs: number, ids: string[] = []): void {
    command.plan.cancellations.push({ atMs, instanceIds: ids.length > 0 ? ids : undefined });
    this.schedules.delete(command.commandId);
  }

  readonly operations: Record<string, Operation> = {
    CreateDocument: (request: Record<string, unknown>) => {
      const { document, version } = this.documents.create(request, this.sandbox.clock.now());
      return { DocumentDescription: describeDocument(document, version, this.sandbox.accountId, 'Creating') };
    },
    UpdateDocument: (request: Record<string, unknown>) => {
      const { document, version } = this.documents.update(request, this.sandbox.clock.now());
      return { DocumentDescription: describeDocument(document, version, this.sandbox.accountId, 'Updating') };
    },
    DescribeDocument: (request: Record<string, unknown>) => {
      const { document, version } = this.documents.resolve(request.Name, request.DocumentVersion, request.VersionName);
      return { Document: describeDocument(document, version, this.sandbox.accountId, 'Active') };
    },
    GetDocument: (request: Record<string, unknown>) => {
      const { document, version } = this.documents.resolve(request.Name, request.DocumentVersion, request.VersionName);
      return getDocument(document, version, request.DocumentFormat);
    },
    UpdateDocumentDefaultVersion: (request: Record<string, unknown>) => {
      const document = this.documents.setDefault(request.Name, request.DocumentVersion);
      const version = document.versions[document.defaultVersion - 1];
      return {
        Description: {
          Name: document.name,
          DefaultVersion: String(document.defaultVersion),
          DefaultVersionName: version.versionName,
        },
      };
    },
    SendCommand: (request: Record<string, unknown>) => this.sendCommand(request),
    ListCommands: (request: Record<string, unknown>) => this.listCommands(request),
    ListCommandInvocations: (request: Record<string, unknown>) => this.listCommandInvocations(request),
    GetCommandInvocation: (request: Record<string, unknown>) => this.getCommandInvocation(request),
    CancelCommand: (request: Record<string, unknown>) => this.cancelCommand(request),
    GetParameter: (request: Record<string, unknown>) =>
      this.parameterStore.get(request, this.sandbox.region, this.sandbox.accountId),
    ...this.associations.operations,
  };
}

/**
 * How long the agent lets the steps run: each step's `timeoutSeconds` (a number or a `{{ parameter }}`
 * reference), 3600 s for a step without one.
 */
function executionTimeout(steps: DocumentStep[], parameters: Record<string, string[]>): number {
  return steps.reduce((total, step) => {
    const written = String(step.timeoutSeconds ?? '');
    const value = written.replace(/^\{\{\s*([A-Za-z0-9_]+)\s*\}\}$/, (_, name: string) => parameters[name]?.[0] ?? '');
    const seconds = Number.parseInt(value, 10);
    return total + (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_EXECUTION_TIMEOUT_SECONDS);
  }, 0);
}

/** `DocumentHash` pins the content: a hash of another version (or content) is refused. */
function checkDocumentHash(
  request: Record<string, unknown>,
  documentName: string,
  version: Pick<DocumentVersion, 'version' | 'sha1' | 'sha256'>,
): void {
  if (request.DocumentHash === undefined) return;
  const expected = request.DocumentHashType === 'Sha1' ? version.sha1 : version.sha256;
  if (request.DocumentHash !== expected) {
    throw new AwsError('InvalidDocument', `The document hash does not match version ${version.version} of document ${documentName}.`);
  }
}
