/**
 * Run Command's answers on the wire: the `Command` of SendCommand and ListCommands, the `CommandInvocation`
 * of ListCommandInvocations (with `CommandPlugins` for `Details`), and GetCommandInvocation's per-plugin view.
 * Fields AWS fills with empty strings when unset are filled the same way.
 */
import type { CommandView, InvocationView } from './commands.js';
import type { DocumentStep } from './documents.js';

/** What the views need to know about a sent command. */
export interface CommandRecordView {
  commandId: string;
  request: Record<string, unknown>;
  documentName: string;
  steps: DocumentStep[];
  requestedAt: Date;
  expiresAfter: Date;
  /** Instance IDs as listed in the request (empty for tag targets). */
  instanceIds: string[];
  targets: unknown[];
  timeoutSeconds: number;
}

/** Standard output and error as GetCommandInvocation returns them (longer output only reaches S3 or CloudWatch). */
export const MAX_STDOUT = 24_000;
export const MAX_STDERR = 8_000;
/** A plugin's `Output` in ListCommandInvocations' details. */
export const MAX_PLUGIN_OUTPUT = 2_500;

/** A duration as `java.time.Duration` prints it, which is what `ExecutionElapsedTime` holds: `PT1H0.271S`. */
export function isoDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  let text = 'PT';
  if (hours) text += `${hours}H`;
  if (minutes) text += `${minutes}M`;
  if (seconds || (!hours && !minutes)) text += `${seconds}S`;
  return text;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function cloudWatch(request: Record<string, unknown>): Record<string, unknown> {
  const config = (request.CloudWatchOutputConfig ?? {}) as Record<string, unknown>;
  return {
    CloudWatchLogGroupName: str(config.CloudWatchLogGroupName),
    CloudWatchOutputEnabled: config.CloudWatchOutputEnabled === true,
  };
}

function notification(request: Record<string, unknown>): Record<string, unknown> {
  const config = (request.NotificationConfig ?? {}) as Record<string, unknown>;
  return {
    NotificationArn: str(config.NotificationArn),
    NotificationEvents: Array.isArray(config.NotificationEvents) ? config.NotificationEvents : [],
    NotificationType: str(config.NotificationType),
  };
}

export function commandWire(command: CommandRecordView, view: CommandView, region: string): Record<string, unknown> {
  const { request } = command;
  return {
    CommandId: command.commandId,
    DocumentName: command.documentName,
    DocumentVersion: str(request.DocumentVersion),
    Comment: str(request.Comment),
    ExpiresAfter: command.expiresAfter,
    Parameters: request.Parameters ?? {},
    InstanceIds: command.instanceIds,
    Targets: command.targets,
    RequestedDateTime: command.requestedAt,
    Status: view.status,
    StatusDetails: view.statusDetails,
    OutputS3Region: str(request.OutputS3Region) || region,
    OutputS3BucketName: str(request.OutputS3BucketName),
    OutputS3KeyPrefix: str(request.OutputS3KeyPrefix),
    MaxConcurrency: str(request.MaxConcurrency) || '50',
    MaxErrors: str(request.MaxErrors) || '0',
    TargetCount: view.targetCount,
    CompletedCount: view.completedCount,
    ErrorCount: view.errorCount,
    DeliveryTimedOutCount: view.deliveryTimedOutCount,
    ServiceRole: str(request.ServiceRoleArn),
    NotificationConfig: notification(request),
    CloudWatchOutputConfig: cloudWatch(request),
    TimeoutSeconds: command.timeoutSeconds,
  };
}

/** A document step's share of an invocation: the same outcome fields, per plugin. */
type PluginView = Omit<InvocationView, 'instanceId'> & { name: string; step: DocumentStep };

/**
 * The invocation's outcome is its last step's; steps before it finish at once with exit code 0
 * (unless nothing ran, when every step shares the invocation's status).
 */
function plugins(command: CommandRecordView, invocation: InvocationView): PluginView[] {
  return command.steps.map((step, index) => {
    const last = index === command.steps.length - 1;
    if (last || invocation.startedAtMs === undefined) return { name: step.name, step, ...invocation };
    return {
      name: step.name,
      step,
      status: 'Success',
      statusDetails: 'Success',
      responseCode: 0,
      startedAtMs: invocation.startedAtMs,
      endedAtMs: invocation.startedAtMs,
      stdout: '',
      stderr: '',
    };
  });
}

function outputUrl(
  command: CommandRecordView,
  instanceId: string,
  step: DocumentStep,
  stream: 'stdout' | 'stderr',
  region: string,
): string {
  const bucket = str(command.request.OutputS3BucketName);
  if (!bucket) return '';
  const prefix = str(command.request.OutputS3KeyPrefix);
  const key = [prefix, command.commandId, instanceId, step.action.replace(':', ''), step.name, stream].filter(Boolean);
  return `https://s3.${str(command.request.OutputS3Region) || region}.amazonaws.com/${bucket}/${key.join('/')}`;
}

/** A plugin's status has no Delayed or Cancelling: those read as Pending and InProgress. */
const pluginStatus = (status: InvocationView['status']) =>
  status === 'Delayed' ? 'Pending' : status === 'Cancelling' ? 'InProgress' : status;

export function invocationWire(
  command: CommandRecordView,
  invocation: InvocationView,
  details: boolean,
  region: string,
): Record<string, unknown> {
  const { request } = command;
  const last = command.steps[command.steps.length - 1];
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    InstanceName: '',
    Comment: str(request.Comment),
    DocumentName: command.documentName,
    DocumentVersion: str(request.DocumentVersion),
    RequestedDateTime: command.requestedAt,
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    TraceOutput: '',
    StandardOutputUrl: outputUrl(command, invocation.instanceId, last, 'stdout', region),
    StandardErrorUrl: outputUrl(command, invocation.instanceId, last, 'stderr', region),
    CommandPlugins: details
      ? plugins(command, invocation).map((plugin) => ({
          Name: plugin.name,
          Status: pluginStatus(plugin.status),
          StatusDetails: plugin.statusDetails,
          ResponseCode: plugin.responseCode,
          ResponseStartDateTime: plugin.startedAtMs === undefined ? undefined : new Date(plugin.startedAtMs),
          ResponseFinishDateTime: plugin.endedAtMs === undefined ? undefined : new Date(plugin.endedAtMs),
          Output: [plugin.stdout, plugin.stderr && `----------ERROR-------\n${plugin.stderr}`]
            .filter(Boolean)
            .join('\n')
            .slice(0, MAX_PLUGIN_OUTPUT),
          StandardOutputUrl: outputUrl(command, invocation.instanceId, plugin.step, 'stdout', region),
          StandardErrorUrl: outputUrl(command, invocation.instanceId, plugin.step, 'stderr', region),
          OutputS3Region: str(request.OutputS3Region) || region,
          OutputS3BucketName: str(request.OutputS3BucketName),
          OutputS3KeyPrefix: str(request.OutputS3KeyPrefix),
        }))
      : [],
    ServiceRole: str(request.ServiceRoleArn),
    NotificationConfig: notification(request),
    CloudWatchOutputConfig: cloudWatch(request),
  };
}

/** GetCommandInvocation's answer for one plugin (step); dates are ISO 8601 strings, empty until they happen. */
export function pluginInvocationWire(
  command: CommandRecordView,
  invocation: InvocationView,
  pluginName: string,
  nowMs: number,
  region: string,
): Record<string, unknown> {
  const plugin = plugins(command, invocation).find((p) => p.name === pluginName)!;
  const { request } = command;
  const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    Comment: str(request.Comment),
    DocumentName: command.documentName,
    DocumentVersion: str(request.DocumentVersion),
    PluginName: plugin.name,
    ResponseCode: plugin.responseCode,
    ExecutionStartDateTime: iso(plugin.startedAtMs),
    ExecutionElapsedTime:
      plugin.startedAtMs === undefined ? '' : isoDuration((plugin.endedAtMs ?? nowMs) - plugin.startedAtMs),
    ExecutionEndDateTime: iso(plugin.endedAtMs),
    Status: plugin.status,
    StatusDetails: plugin.statusDetails,
    StandardOutputContent: plugin.stdout.slice(0, MAX_STDOUT),
    StandardOutputUrl: outputUrl(command, invocation.instanceId, plugin.step, 'stdout', region),
    StandardErrorContent: plugin.stderr.slice(0, MAX_STDERR),
    StandardErrorUrl: outputUrl(command, invocation.instanceId, plugin.step, 'stderr', region),
    CloudWatchOutputConfig: cloudWatch(request),
  };
}
