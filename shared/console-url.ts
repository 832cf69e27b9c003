/**
 * Links into the AWS Management Console of the region's partition, for job summaries and the `console-url` output.
 *
 * Hosts: `<region>.console.aws.amazon.com` (AWS "Management Console endpoints" table), `<region>.console.amazonaws.cn`
 * for China, and `<region>.console.amazonaws-us-gov.com` for GovCloud (US): the regional form, as AWS's own
 * documentation links GovCloud consoles (the ECS-optimized AMI tables link
 * `https://us-gov-east-1.console.amazonaws-us-gov.com/systems-manager/parameters/...?region=us-gov-east-1`).
 * The `region` query parameter is kept as well: the console honours it on every host.
 */

/** `https://<host>` of the console for `region` (a checked region name: see shared/region.ts). */
export function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

/**
 * A console page: `service` is the console's path (`ec2/home`, `systems-manager/run-command/<id>`), `fragment` the
 * part after `#` (`AutoScalingGroupDetails:id=web;view=instanceRefresh`), both already encoded by the caller.
 */
export function consoleUrl(region: string, service: string, fragment?: string): string {
  const url = `${consoleOrigin(region)}/${service}?region=${encodeURIComponent(region)}`;
  return fragment === undefined ? url : `${url}#${fragment}`;
}
