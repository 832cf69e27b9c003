/**
 * Makes sure the SSM document holds this action's content as its default version: creates it, adds a version and
 * makes it the default, or leaves it as it is (see document-plan.ts for the decision).
 */
import {
  CreateDocumentCommand,
  DescribeDocumentCommand,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
  type DocumentDescription,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { poll } from '../shared/poller.js';
import { planDocument, type FoundDocument } from './document-plan.js';

export type DocumentChange = 'created' | 'updated' | 'made default' | 'unchanged';

export interface ReadyDocument {
  name: string;
  /** The version that holds this action's content. */
  version: string;
  change: DocumentChange;
}

export interface DocumentOptions {
  name: string;
  content: string;
  hash: string;
  manage: boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** A new document or version is `Creating`/`Updating` for a moment; SendCommand needs it `Active`. */
const ACTIVE_WAIT = { intervalMs: 1000, timeoutMs: 60_000 };
/** Another job deploying at the same moment may create or update the document between our read and write. */
const RACES = new Set(['DocumentAlreadyExists', 'DuplicateDocumentContent']);

export async function prepareDocument(ssm: SSMClient, options: DocumentOptions): Promise<ReadyDocument> {
  try {
    return await applyPlan(ssm, options);
  } catch (error) {
    if (!RACES.has((error as Error).name)) throw error;
    options.log(`The document ${options.name} changed while being prepared (${(error as Error).name}); reading it again`);
    return applyPlan(ssm, options);
  }
}

async function applyPlan(ssm: SSMClient, options: DocumentOptions): Promise<ReadyDocument> {
  const { name, content, hash, signal } = options;
  const plan = planDocument(name, await findDocument(ssm, name, hash, signal), hash, options.manage);
  switch (plan.kind) {
    case 'refuse':
      throw new Error(plan.message);
    case 'use':
      options.log(`The document ${name} is up to date (version ${plan.version})`);
      return { name, version: plan.version, change: 'unchanged' };
    case 'set-default':
      await setDefault(ssm, name, plan.version, signal);
      options.log(`Made version ${plan.version} of the document ${name} its default`);
      return { name, version: plan.version, change: 'made default' };
    case 'create': {
      const created = await ssm.send(
        new CreateDocumentCommand({ Name: name, Content: content, DocumentType: 'Command', DocumentFormat: 'JSON' }),
        { abortSignal: signal },
      );
      const version = await untilActive(ssm, name, versionOf(created.DocumentDescription), signal);
      options.log(`Created the document ${name}`);
      return { name, version, change: 'created' };
    }
    case 'update': {
      const updated = await ssm.send(
        new UpdateDocumentCommand({ Name: name, Content: content, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' }),
        { abortSignal: signal },
      );
      const version = await untilActive(ssm, name, versionOf(updated.DocumentDescription), signal);
      await setDefault(ssm, name, version, signal);
      options.log(`Added version ${version} to the document ${name} and made it the default`);
      return { name, version, change: 'updated' };
    }
  }
}

async function findDocument(
  ssm: SSMClient,
  name: string,
  hash: string,
  signal?: AbortSignal,
): Promise<FoundDocument | undefined> {
  let described: DocumentDescription | undefined;
  try {
    described = (await ssm.send(new DescribeDocumentCommand({ Name: name }), { abortSignal: signal })).Document;
  } catch (error) {
    if ((error as Error).name === 'InvalidDocument') return undefined;
    throw error;
  }
  const found: FoundDocument = {
    defaultVersion: versionOf(described),
    defaultHash: described?.Hash ?? '',
    latestVersion: described?.LatestVersion ?? versionOf(described),
  };
  if (found.defaultHash !== hash && found.latestVersion !== found.defaultVersion) {
    const latest = await ssm.send(new DescribeDocumentCommand({ Name: name, DocumentVersion: found.latestVersion }), {
      abortSignal: signal,
    });
    found.latestHash = latest.Document?.Hash;
  }
  return found;
}

function versionOf(description: DocumentDescription | undefined): string {
  const version = description?.DocumentVersion;
  if (!version) throw new Error(`SSM described the document ${description?.Name ?? ''} without a version`);
  return version;
}

async function setDefault(ssm: SSMClient, name: string, version: string, signal?: AbortSignal): Promise<void> {
  await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }), {
    abortSignal: signal,
  });
}

async function untilActive(ssm: SSMClient, name: string, version: string, signal?: AbortSignal): Promise<string> {
  const waited = await poll({
    check: async (attempt) =>
      (await ssm.send(new DescribeDocumentCommand({ Name: name, DocumentVersion: version }), { abortSignal: attempt }))
        .Document,
    done: (document) => document?.Status !== 'Creating' && document?.Status !== 'Updating',
    describe: (document) => `Document ${name} version ${version}: ${document?.Status ?? 'unknown'}`,
    ...ACTIVE_WAIT,
    signal,
    log: () => undefined,
  });
  if (waited.outcome === 'aborted') throw waited.reason;
  if (waited.outcome === 'failed') throw waited.error;
  const status = waited.last?.Status;
  if (waited.outcome === 'timeout' || status !== 'Active') {
    const reason = waited.last?.StatusInformation ? `: ${waited.last.StatusInformation}` : '';
    throw new Error(`Version ${version} of the document ${name} is ${status ?? 'not active'}${reason}`);
  }
  return version;
}
