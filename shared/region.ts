/**
 * The AWS region every client of an action uses: the `aws-region` input, else the variables the AWS CLI and SDKs
 * read. Checked for shape here, because a mistyped region otherwise surfaces much later as a DNS error.
 */
import { InputError } from './inputs.js';

/**
 * `us-east-1`, `us-gov-west-1`, `cn-northwest-1`, `eusc-de-east-1`; at most 20 characters, the tightest member the
 * region is sent in (ssm-deploy's SendCommand `OutputS3Region`, 3-20), so that no action is looser than that. The
 * SDK clients' endpoint host labels allow 63; the longest region today has 14.
 */
const REGION = /^(?=.{3,20}$)[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
const FORM = 'an AWS region such as eu-central-1, of at most 20 characters';

export const REGION_INPUT = 'aws-region';
export const REGION_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const;

export function resolveRegion(input?: string, env: NodeJS.ProcessEnv = process.env): string {
  const sources: Array<[from: string, value: string | undefined]> = [
    [`Input '${REGION_INPUT}'`, input],
    ...REGION_VARIABLES.map((name): [string, string | undefined] => [`Environment variable ${name}`, env[name]]),
  ];
  for (const [from, raw] of sources) {
    const value = raw?.trim();
    if (!value) continue;
    if (!REGION.test(value)) {
      throw new InputError([{ input: REGION_INPUT, message: `${from} must be ${FORM}, got ${JSON.stringify(value)}` }]);
    }
    return value;
  }
  throw new InputError([
    {
      input: REGION_INPUT,
      message:
        `No AWS region: set the '${REGION_INPUT}' input or the ${REGION_VARIABLES.join(' or ')} environment variable ` +
        `(the assume-role action exports both).`,
    },
  ]);
}
