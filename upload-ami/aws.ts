/**
 * Every AWS call of upload-ami: the EBS direct APIs (StartSnapshot, PutSnapshotBlock, CompleteSnapshot) and EC2's
 * snapshot and image calls, and the waits built from them. Each returns what it learned; the decisions are plan.ts's.
 */
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand, type EBSClient } from '@aws-sdk/client-ebs';
import {
  CopyImageCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EnableImageDeprecationCommand,
  RegisterImageCommand,
  type EC2Client,
  type Image,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { poll, type PollResult } from '../shared/poller.js';
import { STORE_FILE_TAG, type registerImageRequest } from './plan.js';

/** Between two looks at a snapshot or an image: AWS takes tens of seconds to minutes; a look is one cheap call. */
export const POLL_INTERVAL_MS = 2_000;

// ---- what exists already: a re-run reuses it ----

/**
 * This account's images named `name` (DescribeImages with `Owners: self`, filter `name`), any state but
 * deregistered, whatever file they hold: the name is unique per region, so one of another file blocks ours.
 */
export async function findImages(ec2: EC2Client, name: string, signal?: AbortSignal): Promise<Image[]> {
  const answer = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [{ Name: 'name', Values: [name] }],
    }),
    { abortSignal: signal },
  );
  return (answer.Images ?? []).filter((image) => image.State !== 'deregistered');
}

/** A completed snapshot of this account of the image file `file` (tag `NixStoreFile`), the newest one, if any. */
export async function findSnapshot(ec2: EC2Client, file: string, signal?: AbortSignal): Promise<Snapshot | undefined> {
  const answer = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [
        { Name: `tag:${STORE_FILE_TAG}`, Values: [file] },
        { Name: 'status', Values: ['completed'] },
      ],
    }),
    { abortSignal: signal },
  );
  return (answer.Snapshots ?? []).sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
}

/** The snapshot's state as DescribeSnapshots gives it (`pending`, `completed`, `error`), undefined when it is gone. */
export async function snapshotState(ec2: EC2Client, snapshotId: string, signal?: AbortSignal): Promise<string | undefined> {
  const answer = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal: signal });
  return answer.Snapshots?.find((s) => s.SnapshotId === snapshotId)?.State;
}

// ---- EBS direct APIs ----

export async function startSnapshot(
  ebs: EBSClient,
  request: { volumeGiB: number; description: string; tags: Array<{ Key: string; Value: string }>; clientToken: string; timeoutMinutes: number },
  signal?: AbortSignal,
): Promise<{ snapshotId: string; blockSize: number; status?: string; volumeGiB?: number }> {
  const answer = await ebs.send(
    new StartSnapshotCommand({
      VolumeSize: request.volumeGiB,
      Description: request.description,
      Tags: request.tags,
      ClientToken: request.clientToken,
      // Minutes after which EBS itself drops a snapshot no block was written to or that was never completed: the
      // last cleanup when neither ours nor the runner's ran (10-4320).
      Timeout: Math.min(4320, Math.max(10, Math.ceil(request.timeoutMinutes))),
    }),
    { abortSignal: signal },
  );
  if (!answer.SnapshotId) throw new Error('StartSnapshot answered without a SnapshotId.');
  return { snapshotId: answer.SnapshotId, blockSize: answer.BlockSize ?? 0, status: answer.Status, volumeGiB: answer.VolumeSize };
}

export async function putBlock(
  ebs: EBSClient,
  snapshotId: string,
  block: { index: number; data: Buffer; checksum: string },
  signal: AbortSignal,
): Promise<void> {
  await ebs.send(
    new PutSnapshotBlockCommand({
      SnapshotId: snapshotId,
      BlockIndex: block.index,
      BlockData: block.data,
      DataLength: block.data.length,
      Checksum: block.checksum,
      ChecksumAlgorithm: 'SHA256',
    }),
    { abortSignal: signal },
  );
}

export async function completeSnapshot(
  ebs: EBSClient,
  snapshotId: string,
  changedBlocks: number,
  checksum: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const answer = await ebs.send(
    new CompleteSnapshotCommand({
      SnapshotId: snapshotId,
      ChangedBlocksCount: changedBlocks,
      Checksum: checksum,
      ChecksumAlgorithm: 'SHA256',
      ChecksumAggregationMethod: 'LINEAR',
    }),
    { abortSignal: signal },
  );
  return answer.Status;
}

export async function deleteSnapshot(ec2: EC2Client, snapshotId: string, signal?: AbortSignal): Promise<void> {
  await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal: signal });
}

// ---- EC2 images ----

export async function registerImage(ec2: EC2Client, request: ReturnType<typeof registerImageRequest>, signal?: AbortSignal): Promise<string> {
  const answer = await ec2.send(new RegisterImageCommand(request), { abortSignal: signal });
  if (!answer.ImageId) throw new Error('RegisterImage answered without an ImageId.');
  return answer.ImageId;
}

export async function copyImage(
  ec2: EC2Client,
  request: { sourceRegion: string; sourceImageId: string; name: string; description?: string; clientToken: string; tags: Array<{ Key: string; Value: string }> },
  signal?: AbortSignal,
): Promise<string> {
  const answer = await ec2.send(
    new CopyImageCommand({
      SourceRegion: request.sourceRegion,
      SourceImageId: request.sourceImageId,
      Name: request.name,
      ...(request.description ? { Description: request.description } : {}),
      ClientToken: request.clientToken,
      ...(request.tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'image' as const, Tags: request.tags }] } : {}),
    }),
    { abortSignal: signal },
  );
  if (!answer.ImageId) throw new Error('CopyImage answered without an ImageId.');
  return answer.ImageId;
}

export async function deprecateImage(ec2: EC2Client, imageId: string, at: Date, signal?: AbortSignal): Promise<void> {
  await ec2.send(new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: at }), { abortSignal: signal });
}

// ---- waits ----

/** Waits until the snapshot is `completed` (or `error`, or gone). */
export function waitForSnapshot(ec2: EC2Client, snapshotId: string, timeoutMs: number, signal: AbortSignal): Promise<PollResult<Snapshot | undefined>> {
  return poll({
    check: async (attempt) => {
      const answer = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal: attempt });
      return answer.Snapshots?.find((s) => s.SnapshotId === snapshotId);
    },
    done: (snapshot) => snapshot === undefined || snapshot.State === 'completed' || snapshot.State === 'error',
    describe: (snapshot) => `Snapshot ${snapshotId}: ${snapshot?.State ?? 'gone'}${snapshot?.Progress ? ` ${snapshot.Progress}` : ''}`,
    intervalMs: POLL_INTERVAL_MS,
    timeoutMs,
    signal,
  });
}

/** Waits until the image is `available` (or `failed`, or any other end state, or gone). */
export function waitForImage(ec2: EC2Client, region: string, imageId: string, timeoutMs: number, signal: AbortSignal): Promise<PollResult<Image | undefined>> {
  return poll({
    check: async (attempt) => {
      const answer = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }), { abortSignal: attempt });
      return answer.Images?.find((i) => i.ImageId === imageId);
    },
    done: (image) => image === undefined || image.State !== 'pending',
    describe: (image) => `Image ${imageId} in ${region}: ${image?.State ?? 'gone'}${image?.StateReason?.Message ? ` (${image.StateReason.Message})` : ''}`,
    intervalMs: POLL_INTERVAL_MS,
    timeoutMs,
    signal,
  });
}
