/**
 * The upload-ami step: an image already registered for this store path and name is output as is; otherwise the raw
 * image is written to a new EBS snapshot with the EBS direct APIs (zero blocks skipped), the snapshot is registered
 * as an AMI, deprecated when asked, and copied to other regions. On a failure, timeout or cancellation before
 * CompleteSnapshot, the snapshot is deleted; after it, it is kept for a re-run; the report says what was left. The
 * steps record what they learn in the state; `report` alone makes the outputs, the summary and the failure from it.
 */
import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client, type Image } from '@aws-sdk/client-ec2';
import { abortBudgetMs, abortCalls, type AbortCause } from '../shared/abort-budget.js';
import { actionClients } from '../shared/action-clients.js';
import { clientFactory } from '../shared/aws-clients.js';
import { CancelledError } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { retry } from '../shared/retry.js';
import { runStep, type StepReport } from '../shared/step.js';
import {
  completeSnapshot,
  copyImage,
  deleteSnapshot,
  deprecateImage,
  findImages,
  findSnapshot,
  putBlock,
  registerImage,
  snapshotState,
  startSnapshot,
  waitForImage,
  waitForSnapshot,
} from './aws.js';
import { parseInputs } from '../shared/inputs.js';
import { checkBeforeBuild, Input, readInputs, type UploadAmiInputs } from './inputs.js';
import {
  blockCount,
  BLOCK_SIZE,
  clientToken,
  copyRegionClashes,
  deprecateAt,
  deprecationToSet,
  duplicateImageProblem,
  imageTags,
  isRetryableControlCall,
  sealedAfterFailedComplete,
  isNewImage,
  outcomeLine,
  isSealedError,
  linearChecksum,
  registerImageRequest,
  resourceTags,
  reuseProblem,
  snapshotFate,
  startedSnapshotAction,
  volumeGiB,
} from './plan.js';
import { uploadSummary, type UploadState } from './summary.js';
import { uploadBlocks } from './upload.js';

/** The action's outputs, as named in action.yml. */
export interface Outputs {
  'image-id'?: string;
  'snapshot-id'?: string;
  images?: Record<string, string>;
  'uploaded-bytes'?: number;
  'skipped-blocks'?: number;
  /** Whether `image-id` was registered by this workflow run (any attempt of it), by its GitHubRunId tag. */
  'new-image'?: boolean;
}

export function run(): Promise<void> {
  if (validateOnly()) {
    return runStep<true, undefined, Outputs>({
      name: 'upload-ami',
      readInputs: () => {
        checkBeforeBuild();
        return true;
      },
      initial: () => undefined,
      body: async () => undefined,
      report: () => ({ outputs: {}, notice: 'validate-only: the inputs are valid. Nothing was read of the image and nothing was called.' }),
    });
  }
  return runStep<UploadAmiInputs, UploadState, Outputs>({
    name: 'upload-ami',
    readInputs: () => readInputs(),
    initial: (inputs) => ({
      region: inputs.awsRegion,
      imageName: inputs.imageName,
      storePath: inputs.storePath,
      file: inputs.source.file,
      imageBytes: inputs.imageBytes,
      totalBlocks: blockCount(inputs.imageBytes),
      copyToRegions: inputs.copyToRegions,
      images: {},
      phases: [],
    }),
    body: async (inputs, state, signal) => {
      try {
        await upload(inputs, state, signal);
      } finally {
        state.endedAt = new Date();
      }
    },
    report,
  });
}

/** `validate-only`; a value that is not a boolean is the full run's to refuse. */
function validateOnly(): boolean {
  try {
    return parseInputs((r) => r.boolean(Input.ValidateOnly, false));
  } catch {
    return false;
  }
}

export function report(state: UploadState, error: unknown): StepReport<Outputs> {
  const failure = error === undefined ? undefined : errorMessage(error);
  const text = failure ?? state.outcome ?? '';
  const primary = state.images[state.region];
  return {
    outputs: {
      'image-id': primary,
      'snapshot-id': state.snapshotDeleted ? undefined : state.snapshotId,
      images: Object.keys(state.images).length > 0 ? state.images : undefined,
      'uploaded-bytes': state.upload?.sentBytes ?? (state.reused || state.snapshotReused ? 0 : undefined),
      'skipped-blocks': state.upload?.skipped,
      'new-image': primary ? state.newImage : undefined,
    },
    summary: uploadSummary(state, text),
    failure,
    notice: failure ? undefined : state.outcome,
  };
}

/** Runs `fn` as a phase of the summary's chart: its span from start to end, marked when it throws. */
async function phase<T>(state: UploadState, label: string, fn: () => Promise<T>): Promise<T> {
  const span: UploadState['phases'][number] = { label, from: new Date() };
  state.phases.push(span);
  try {
    return await fn();
  } catch (error) {
    span.failed = true;
    throw error;
  } finally {
    span.to = new Date();
  }
}

async function upload(inputs: UploadAmiInputs, state: UploadState, cancel: AbortSignal): Promise<void> {
  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(new Error(`timeout-minutes (${inputs.timeoutMinutes}) passed`)), timeoutMs);
  const signal = AbortSignal.any([cancel, timer.signal]);
  const { clients, assumed } = await actionClients(inputs, { signal });
  const ec2 = clients(EC2Client);
  // EBS with no retry of its own: upload.ts slows down on throttling and tries blocks again itself; controlCall
  // retries StartSnapshot and CompleteSnapshot.
  const ebs = clientFactory({ region: inputs.awsRegion, credentials: assumed?.credentials, maxAttempts: 1, retryMode: 'standard' })(EBSClient);
  const regionClients = new Map<string, EC2Client>();
  const ec2In = (region: string) => {
    if (!regionClients.has(region)) regionClients.set(region, clientFactory({ region, credentials: assumed?.credentials })(EC2Client));
    return regionClients.get(region)!;
  };
  const tags = resourceTags(inputs.tags, inputs.storePath, inputs.source.file);
  const run = `${process.env.GITHUB_RUN_ID ?? ''}-${process.env.GITHUB_RUN_ATTEMPT ?? ''}`;
  const runId = process.env.GITHUB_RUN_ID || undefined;
  // The images (not the snapshot) carry the run: new-image is decided by it, whatever attempt registered them.
  const tagsOfImages = imageTags(tags, runId);
  const outside = inputs.storePath ? undefined : { file: inputs.source.file, runId };
  const made = new Set<string>();

  try {
    // ---- the registration wanted; an image of this name is ours only for the same file and settings ----
    const wanted = (snapshotId: string) =>
      registerImageRequest({
        name: inputs.imageName,
        description: inputs.description || undefined,
        snapshotId,
        volumeGiB: volumeGiB(inputs.imageBytes),
        volumeType: inputs.volumeType,
        source: inputs.source,
        tpm: inputs.tpmSupport,
        tags: tagsOfImages,
      });
    const file = inputs.storePath ? inputs.source.file : undefined;
    const existing = await phase(state, 'Look for the image', () => findImages(ec2, inputs.imageName, signal));
    const taken = pick(existing) ?? existing[0];
    const problem = taken ? reuseProblem(taken, file, wanted(''), inputs.soleDisk, outside) : undefined;
    if (taken && problem) {
      throw new Error(
        `An image named ${JSON.stringify(inputs.imageName)} (${taken.ImageId}) exists in ${inputs.awsRegion}, but ${problem}: ` +
          'AMI names are unique per region: set another image-name, or deregister it.',
      );
    }
    // ---- the name in every copy region, before any upload: a clash there would be found only after registering ----
    if (inputs.copyToRegions.length > 0) {
      const found = await phase(state, 'Look in the copy regions', () =>
        Promise.all(inputs.copyToRegions.map(async (region) => ({ region, image: pick(await findImages(ec2In(region), inputs.imageName, signal)) }))),
      );
      const clashes = copyRegionClashes(inputs.imageName, found, file, wanted(''), inputs.soleDisk, outside);
      if (clashes.length > 0) throw new Error(`${clashes.join(' ')} AMI names are unique per region: set another image-name, or deregister it.`);
    }
    let imageId = pick(existing)?.ImageId;
    if (imageId) {
      const found = pick(existing)!;
      state.reused = true;
      state.images[inputs.awsRegion] = imageId;
      state.snapshotId = found.BlockDeviceMappings?.find((b) => b.DeviceName === found.RootDeviceName)?.Ebs?.SnapshotId;
      state.snapshotReused = true;
      state.newImage = isNewImage(found.Tags, runId);
      log.info(`Image ${imageId} (${inputs.imageName}) of ${inputs.source.file} exists already in ${inputs.awsRegion}: nothing to upload.`);
      if (outside) {
        log.warning(
          `Image ${imageId} was registered from ${inputs.source.file} by an earlier attempt of this run and is reused; outside the Nix store ` +
            'nothing names the file\'s content, so it is not checked against the file.',
        );
      }
    } else {
      // ---- a completed snapshot of this store path (an earlier run failed after it), else an upload ----
      const snapshot = file ? await findSnapshot(ec2, file, signal) : undefined;
      if (snapshot?.SnapshotId) {
        reuseSnapshot(state, snapshot, 'an earlier run uploaded it');
      } else {
        await phase(state, 'Upload', () => uploadSnapshot(inputs, state, ebs, ec2, tags, run, remaining, signal));
        if (!state.snapshotReused) {
          await phase(state, 'Snapshot completes', async () => {
            const result = await waitForSnapshot(ec2, state.snapshotId!, remaining(), signal);
            if (result.outcome !== 'done') throw unfinished(result, `snapshot ${state.snapshotId} to complete`, inputs);
            if (result.value?.State !== 'completed') {
              throw new Error(`Snapshot ${state.snapshotId} ended ${result.value?.State ?? 'deleted'}${result.value?.StateMessage ? `: ${result.value.StateMessage}` : ''}.`);
            }
            state.snapshotCompleted = true;
          });
        }
      }

      // ---- register, tag, wait ----
      const request = wanted(state.snapshotId!);
      imageId = await phase(state, 'Register image', async () => {
        const id = await registerImage(ec2, request, signal).catch(async (error: unknown) => {
          if ((error as Error).name !== 'InvalidAMIName.Duplicate') throw error;
          // The SDK's retry of a RegisterImage whose answer was lost meets the image that attempt made.
          const named = pick(await findImages(ec2, inputs.imageName, signal));
          const why = named ? duplicateImageProblem(named, file, request, runId, inputs.soleDisk, outside) : 'it was deregistered since';
          if (named?.ImageId && !why) {
            log.info(`RegisterImage answered InvalidAMIName.Duplicate: image ${named.ImageId} is this run's own (an attempt whose answer was lost registered it).`);
            return named.ImageId;
          }
          throw new Error(
            `An image named ${JSON.stringify(inputs.imageName)}${named?.ImageId ? ` (${named.ImageId})` : ''} exists in ${inputs.awsRegion}, but ${why}: ` +
              'set another image-name, or deregister it.',
          );
        });
        state.images[inputs.awsRegion] = id;
        state.newImage = true;
        made.add(inputs.awsRegion);
        await awaitImage(ec2, inputs.awsRegion, id, remaining(), signal, inputs);
        return id;
      });
      log.info(`Image ${imageId} (${inputs.imageName}) is available in ${inputs.awsRegion}.`);
    }
    if (existing.length > 0 && pick(existing)?.State === 'pending') await awaitImage(ec2, inputs.awsRegion, imageId, remaining(), signal, inputs);

    // ---- deprecation, copies ----
    const at = inputs.deprecateAfterDays === undefined ? undefined : deprecateAt(new Date(), inputs.deprecateAfterDays);
    // An image an earlier attempt left (cancelled while pending) may lack the deprecation that attempt never set.
    const primaryAt = deprecationToSet(at, state.reused ? pick(existing) : undefined);
    if (primaryAt) await deprecateImage(ec2, imageId, primaryAt, signal);
    if (inputs.copyToRegions.length > 0) {
      const source = imageId;
      await phase(state, `Copy to ${inputs.copyToRegions.join(', ')}`, async () => {
        const copies = await Promise.allSettled(
          inputs.copyToRegions.map(async (region) => {
            const target = ec2In(region);
            const named = pick(await findImages(target, inputs.imageName, signal));
            const problem = named ? reuseProblem(named, file, wanted(source), inputs.soleDisk, outside) : undefined;
            const found = named && !problem ? named : undefined;
            // A copy keeps the source's settings but not its snapshot: only the file and the settings tell.
            if (named && problem) {
              throw new Error(`an image named ${JSON.stringify(inputs.imageName)} (${named.ImageId}) exists there, but ${problem}: set another image-name, or deregister it`);
            }
            const id =
              found?.ImageId ??
              (await copyImage(
                target,
                {
                  sourceRegion: inputs.awsRegion,
                  sourceImageId: source,
                  name: inputs.imageName,
                  description: inputs.description || undefined,
                  clientToken: clientToken('CopyImage', source, region),
                  tags: tagsOfImages,
                },
                signal,
              ));
            state.images[region] = id;
            if (!found) made.add(region);
            await awaitImage(target, region, id, remaining(), signal, inputs);
            const copyAt = deprecationToSet(at, found);
            if (copyAt) await deprecateImage(target, id, copyAt, signal);
            log.info(`Image ${id} is available in ${region}${found ? ' (copied by an earlier run)' : ''}.`);
          }),
        );
        const failed = copies.flatMap((c, i) => (c.status === 'rejected' ? [`${inputs.copyToRegions[i]}: ${errorMessage(c.reason)}`] : []));
        if (failed.length > 0) throw new Error(`Copying ${source} failed in ${failed.join('; ')}`);
      });
    }
    state.outcome = outcomeLine({
      images: [inputs.awsRegion, ...inputs.copyToRegions].map((region) => ({ region, id: state.images[region], made: made.has(region) })),
      storePath: inputs.storePath,
      file: inputs.source.file,
      uploaded: !state.reused && !state.reusedSnapshot && (state.upload?.sentBytes ?? 0) > 0,
      reusedSnapshot: state.reusedSnapshot,
    });
  } catch (error) {
    const cause: AbortCause = cancel.aborted ? 'cancelled' : timer.signal.aborted ? 'timeout' : 'gave-up';
    const left = await cleanUp(state, ec2, cause);
    const why = cancel.aborted
      ? 'The run was cancelled'
      : timer.signal.aborted
        ? `timeout-minutes (${inputs.timeoutMinutes}) passed`
        : errorMessage(error);
    throw new Error(`${why}${/[.:]$/.test(why) ? '' : '.'} ${left}`, { cause: error });
  } finally {
    clearTimeout(timeout);
    ec2.destroy();
    ebs.destroy();
    for (const client of regionClients.values()) client.destroy();
  }
}

/** An available image first, then a pending one. */
function pick(images: Image[]): Image | undefined {
  return images.find((i) => i.State === 'available') ?? images.find((i) => i.State === 'pending');
}

/** Records a completed snapshot this run did not write as the one to register, and says so. */
function reuseSnapshot(state: UploadState, snapshot: { SnapshotId?: string; VolumeSize?: number }, why: string): void {
  state.snapshotId = snapshot.SnapshotId;
  state.snapshotReused = true;
  state.snapshotCompleted = true;
  state.reusedSnapshot = { id: snapshot.SnapshotId!, volumeGiB: snapshot.VolumeSize, why };
  // What this run sent (nothing that counts): the report speaks of the reused snapshot, not of an upload of 0 blocks.
  state.upload = undefined;
  log.info(`Snapshot ${snapshot.SnapshotId}${snapshot.VolumeSize ? ` (${snapshot.VolumeSize} GiB)` : ''} of ${state.file} is reused (${why}): registering it without uploading.`);
}

async function uploadSnapshot(
  inputs: UploadAmiInputs,
  state: UploadState,
  ebs: EBSClient,
  ec2: EC2Client,
  tags: Array<{ Key: string; Value: string }>,
  run: string,
  remaining: () => number,
  signal: AbortSignal,
): Promise<void> {
  const started = await controlCall('StartSnapshot', remaining, signal, (attempt) => startSnapshot(
    ebs,
    {
      volumeGiB: volumeGiB(inputs.imageBytes),
      description: inputs.description || inputs.imageName,
      tags,
      // The same run attempt gets the same snapshot back; a new attempt starts a new one.
      clientToken: clientToken('StartSnapshot', inputs.source.file, inputs.imageBytes, inputs.imageName, run),
      timeoutMinutes: inputs.timeoutMinutes,
    },
    attempt,
  ));
  const { snapshotId, blockSize } = started;
  state.snapshotId = snapshotId;
  const decision = startedSnapshotAction(started.status);
  if (decision.action === 'refuse') throw new Error(`Snapshot ${snapshotId}: ${decision.reason}.`);
  if (decision.action === 'reuse') {
    reuseSnapshot(state, { SnapshotId: snapshotId, VolumeSize: started.volumeGiB }, 'StartSnapshot returned it completed: an earlier try of this run, with the same ClientToken, uploaded it');
    return;
  }
  if (blockSize && blockSize !== BLOCK_SIZE) throw new Error(`Snapshot ${snapshotId} has blocks of ${blockSize} bytes; this action writes ${BLOCK_SIZE}.`);
  log.info(`Snapshot ${snapshotId} started (${volumeGiB(inputs.imageBytes)} GiB); writing ${state.totalBlocks} blocks of ${inputs.source.file}, ${inputs.uploadConcurrency} at a time.`);
  let result: Awaited<ReturnType<typeof uploadBlocks>>;
  try {
    result = await uploadBlocks({
      file: inputs.source.file,
      imageBytes: inputs.imageBytes,
      concurrency: inputs.uploadConcurrency,
      putBlock: (block, attempt) => putBlock(ebs, snapshotId, block, attempt),
      signal,
      log: log.info,
      onProgress: (progress) => (state.upload = progress),
    });
  } catch (error) {
    if (!isSealedError(error)) throw error;
    // StartSnapshot gave back a snapshot an earlier try of this run sealed (or that expired): waited for, not deleted.
    log.info(`Snapshot ${snapshotId} takes no more blocks (${errorMessage(error)}): an earlier try of this run sealed it; waiting for it to complete.`);
    state.snapshotSealed = true;
    const waited = await waitForSnapshot(ec2, snapshotId, remaining(), signal);
    if (waited.outcome !== 'done') throw unfinished(waited, `snapshot ${snapshotId} to complete`, inputs);
    if (waited.value?.State !== 'completed') {
      state.snapshotSealed = false;
      throw error;
    }
    reuseSnapshot(state, waited.value, 'StartSnapshot returned it sealed: an earlier try of this run, with the same ClientToken, uploaded it');
    return;
  }
  state.upload = result;
  let status: string | undefined;
  try {
    status = await controlCall('CompleteSnapshot', remaining, signal, (attempt) => completeSnapshot(ebs, snapshotId, result.sent, linearChecksum(result.digests), attempt));
  } catch (error) {
    if (signal.aborted) throw error;
    // An attempt whose answer was lost may have sealed it: a sealed snapshot holds the whole file and is not deleted.
    const seen = await snapshotState(ec2, snapshotId, signal).catch(() => undefined);
    if (!sealedAfterFailedComplete(seen, error)) throw error;
    log.info(`CompleteSnapshot failed (${errorMessage(error)}), but snapshot ${snapshotId} is ${seen}: an attempt whose answer was lost sealed it.`);
    status = seen;
  }
  // From here the snapshot holds the whole file: a cancellation or timeout keeps it for a re-run.
  state.snapshotSealed = true;
  log.info(`Snapshot ${snapshotId} sealed (${status ?? 'pending'}): ${result.sent} blocks written, ${result.skipped} all-zero skipped.`);
}

/**
 * StartSnapshot or CompleteSnapshot (the EBS client makes one attempt): tried again on throttling, 5xx and timeouts
 * ({@link isRetryableControlCall}) with backoff, while timeout-minutes lasts; `call` gets the attempt's signal.
 */
function controlCall<T>(name: string, remaining: () => number, signal: AbortSignal, call: (attempt: AbortSignal) => Promise<T>): Promise<T> {
  return retry((_n, attempt) => call(attempt ?? signal), {
    isRetryable: isRetryableControlCall,
    maxAttempts: 10,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
    budgetMs: remaining(),
    signal,
    onRetry: (error, n, delayMs) => log.info(`${name} failed (attempt ${n}): ${errorMessage(error)}; trying again in ${delayMs} ms.`),
  });
}

async function awaitImage(ec2: EC2Client, region: string, imageId: string, timeoutMs: number, signal: AbortSignal, inputs: UploadAmiInputs): Promise<void> {
  const result = await waitForImage(ec2, region, imageId, timeoutMs, signal);
  if (result.outcome !== 'done') throw unfinished(result, `image ${imageId} in ${region}`, inputs);
  if (result.value?.State !== 'available') {
    throw new Error(`Image ${imageId} in ${region} ended ${result.value?.State ?? 'deregistered'}${result.value?.StateReason?.Message ? `: ${result.value.StateReason.Message}` : ''}.`);
  }
}

function unfinished(result: { outcome: string; error?: unknown; reason?: unknown }, what: string, inputs: UploadAmiInputs): Error {
  if (result.outcome === 'aborted') return result.reason instanceof Error ? result.reason : new CancelledError('SIGINT');
  if (result.outcome === 'timeout') return new Error(`timeout-minutes (${inputs.timeoutMinutes}) passed while waiting for ${what}`);
  return new Error(`Waiting for ${what} failed: ${errorMessage(result.error)}`);
}

/**
 * After a failure: a snapshot this run started and did not seal is deleted (within the abort budget); a sealed one
 * is kept for a re-run (see plan.ts's `snapshotFate`). Returns what was left, in one sentence.
 */
async function cleanUp(state: UploadState, ec2: EC2Client, cause: AbortCause): Promise<string> {
  const images = Object.entries(state.images).map(([region, id]) => `${id} in ${region}`);
  const imageText = images.length > 0 ? `Images left: ${images.join(', ')}.` : '';
  const fate = snapshotFate(state);
  if (fate === 'none') return imageText || 'Nothing was left.';
  if (fate === 'not-ours') return imageText || `Snapshot ${state.snapshotId}, reused, was kept: a re-run registers it without uploading.`;
  if (fate === 'keep') {
    if (images.length > 0) return imageText;
    const rerun = state.storePath ? 'a re-run registers it without uploading' : 'a re-run of this attempt registers it without uploading (a file outside the store is not looked up otherwise)';
    return `Snapshot ${state.snapshotId} was kept: ${rerun}.`;
  }
  const calls = abortCalls(abortBudgetMs(cause), log.info);
  try {
    await calls.call('DeleteSnapshot', (signal) => deleteSnapshot(ec2, state.snapshotId!, signal));
    state.snapshotDeleted = true;
    return `The incomplete snapshot ${state.snapshotId} was deleted: nothing was left.`;
  } catch (error) {
    return `The incomplete snapshot ${state.snapshotId} could not be deleted (${errorMessage(error)}): delete it, or EBS drops it when its timeout passes.`;
  }
}
