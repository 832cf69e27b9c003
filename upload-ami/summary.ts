/**
 * The job summary of upload-ami, pure: the image per region with console links, what was sent against the image's
 * size, and a Gantt chart of the phases. Made from the step's state by main.ts's `report`.
 */
import { consoleUrl } from '../shared/console-url.js';
import { mermaidText, type JobSummary } from '../shared/summary.js';
import { formatBytes } from './plan.js';
import type { UploadProgress } from './upload.js';

export interface UploadState {
  region: string;
  imageName: string;
  storePath?: string;
  file: string;
  imageBytes: number;
  totalBlocks: number;
  copyToRegions: string[];
  /** Region -> image ID, as each is registered or copied (or found). */
  images: Record<string, string>;
  /** An image of this store path and name existed: nothing was uploaded. */
  reused?: boolean;
  snapshotId?: string;
  /** The snapshot was an earlier run's. */
  snapshotReused?: boolean;
  snapshotCompleted?: boolean;
  /** CompleteSnapshot succeeded (by this run or, for the same ClientToken, an earlier try): the snapshot is kept. */
  snapshotSealed?: boolean;
  /** A completed snapshot of this file registered without uploading: which, its size, and why it was there. */
  reusedSnapshot?: { id: string; volumeGiB?: number; why: string };
  snapshotDeleted?: boolean;
  /** The primary image was registered by this workflow run (any attempt), told by its GitHubRunId tag. */
  newImage?: boolean;
  upload?: UploadProgress;
  phases: Array<{ label: string; from: Date; to?: Date; failed?: boolean }>;
  outcome?: string;
  endedAt?: Date;
}

/** The EC2 console's page of one image. */
export function imageUrl(region: string, imageId: string): string {
  return consoleUrl(region, 'ec2/home', `ImageDetails:imageId=${encodeURIComponent(imageId)}`);
}

export function uploadSummary(state: UploadState, text: string): JobSummary {
  const sent = state.upload;
  const regions = [state.region, ...state.copyToRegions];
  return {
    title: `AMI ${state.imageName}`,
    text,
    facts: [
      ['Store path', state.storePath && { text: state.storePath, code: true }],
      ['Image file', { text: state.file, code: true }],
      ['Image size', `${formatBytes(state.imageBytes)} (${state.totalBlocks} blocks of 512 KiB)`],
      [
        'Uploaded',
        sent
          ? `${formatBytes(sent.sentBytes)} in ${sent.sent} blocks (${percent(sent.sentBytes, state.imageBytes)} of the image); ${sent.skipped} all-zero blocks skipped`
          : state.reused
            ? '0 B: the image existed already'
            : state.reusedSnapshot
              ? `0 B: snapshot ${state.reusedSnapshot.id}${state.reusedSnapshot.volumeGiB ? ` (${state.reusedSnapshot.volumeGiB} GiB)` : ''} was reused (${state.reusedSnapshot.why})`
              : undefined,
      ],
      ['Throttled', sent && sent.throttled > 0 ? `${sent.throttled} times; concurrency fell to ${sent.lowestConcurrency}` : undefined],
      ['Snapshot', state.snapshotId && { text: `${state.snapshotId}${state.snapshotDeleted ? ' (deleted)' : state.reusedSnapshot ? ' (reused)' : ''}`, code: true }],
    ],
    mermaid: phaseGantt(state),
    tables: [
      {
        title: 'Images',
        columns: ['Region', 'Image'],
        rows: regions.map((region) => {
          const id = state.images[region];
          return [region, id ? { text: id, code: true, href: imageUrl(region, id) } : 'not made'];
        }),
      },
    ],
  };
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/** A Mermaid Gantt chart (`dateFormat x`, Unix milliseconds) of the phases; undefined before any began. */
export function phaseGantt(state: UploadState): string | undefined {
  if (state.phases.length === 0) return undefined;
  const end = state.endedAt?.getTime();
  const lines = ['gantt', `title ${mermaidText(`AMI ${state.imageName}`)}`, 'dateFormat x', 'axisFormat %H:%M:%S', 'section Phases'];
  for (const p of state.phases) {
    const from = p.from.getTime();
    const to = Math.max(from + 1, p.to?.getTime() ?? end ?? from);
    lines.push(`${mermaidText(p.label)} :${p.failed ? 'crit' : 'done'}, ${from}, ${to}`);
  }
  return lines.join('\n');
}
