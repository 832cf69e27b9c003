/** The job summary of a deploy: what was deployed where, how the refresh went, and where to look in the console. */
import type { TimelineEntry } from '../shared/poller.js';
import type { JobSummary } from '../shared/summary.js';

export interface DeployReport {
  region: string;
  groupName: string;
  storePath: string;
  templateId?: string;
  sourceVersion?: number;
  targetVersion?: number;
  refreshId?: string;
  status?: string;
  statusReason?: string;
  /** One sentence: the outcome as the step reports it. */
  outcome: string;
  timeline: TimelineEntry[];
}

export function deploySummary(report: DeployReport): JobSummary {
  const versions =
    report.sourceVersion === undefined
      ? undefined
      : `${report.sourceVersion} -> ${report.targetVersion ?? '(not made)'}`;
  return {
    title: `Instance refresh of ${report.groupName}`,
    text: report.outcome,
    facts: [
      ['Auto Scaling group', { text: report.groupName, href: groupConsoleUrl(report.region, report.groupName) }],
      ['Region', report.region],
      ['Store path', { text: report.storePath, code: true }],
      ['Launch template', report.templateId && { text: report.templateId, code: true }],
      ['Launch template version', versions],
      ['Instance refresh', report.refreshId && { text: report.refreshId, code: true }],
      ['Status', report.status],
      ['Status reason', report.statusReason],
    ],
    tables:
      report.timeline.length === 0
        ? []
        : [{ title: 'Timeline', columns: ['Time', 'Status'], rows: report.timeline.map((entry) => [entry.at, entry.line]) }],
  };
}

/** The group's instance refresh tab in the EC2 console of the region's partition. */
export function groupConsoleUrl(region: string, groupName: string): string {
  const host = region.startsWith('cn-')
    ? `${region}.console.amazonaws.cn`
    : region.startsWith('us-gov-')
      ? 'console.amazonaws-us-gov.com'
      : `${region}.console.aws.amazon.com`;
  return `https://${host}/ec2/home?region=${region}#AutoScalingGroupDetails:id=${encodeURIComponent(groupName)};view=instanceRefresh`;
}
