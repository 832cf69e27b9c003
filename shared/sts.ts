/**
 * STS's `AssumeRoleWithWebIdentity` as one unsigned Query `POST` (the call needs no credentials), without the AWS SDK:
 * loading the SDK's STS client was most of what starting assume-role cost (see `docs/performance.md`). What the SDK
 * gave is kept here, each piece tested against the SDK's own behaviour: the endpoint (its STS ruleset and partitions,
 * `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the shared config file, FIPS and dual-stack), the request's encoding, the
 * answer's reading (credentials, the modelled error names, the status as `$metadata`). Retries and per-attempt
 * timeouts are the caller's (`assume-role-with-oidc.ts`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { send } from './http-send.js';
import { PROJECT_ID } from './version.js';

/** A partition of the SDK's `partitions.json` (@aws-sdk/util-endpoints): the fields STS's ruleset reads. */
interface Partition {
  name: string;
  regionRegex: RegExp;
  /** Region names that the regex does not match but that belong to the partition. */
  regions: string[];
  dnsSuffix: string;
  dualStackDnsSuffix: string;
}

/** In the SDK's order: the first partition that lists the region wins, then the first whose regex matches. */
const PARTITIONS: Partition[] = [
  { name: 'aws', regionRegex: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, regions: ['aws-global'], dnsSuffix: 'amazonaws.com', dualStackDnsSuffix: 'api.aws' },
  { name: 'aws-cn', regionRegex: /^cn-\w+-\d+$/, regions: ['aws-cn-global'], dnsSuffix: 'amazonaws.com.cn', dualStackDnsSuffix: 'api.amazonwebservices.com.cn' },
  { name: 'aws-eusc', regionRegex: /^eusc-(de)-\w+-\d+$/, regions: [], dnsSuffix: 'amazonaws.eu', dualStackDnsSuffix: 'api.amazonwebservices.eu' },
  { name: 'aws-iso', regionRegex: /^us-iso-\w+-\d+$/, regions: ['aws-iso-global'], dnsSuffix: 'c2s.ic.gov', dualStackDnsSuffix: 'api.aws.ic.gov' },
  { name: 'aws-iso-b', regionRegex: /^us-isob-\w+-\d+$/, regions: ['aws-iso-b-global'], dnsSuffix: 'sc2s.sgov.gov', dualStackDnsSuffix: 'api.aws.scloud' },
  { name: 'aws-iso-e', regionRegex: /^eu-isoe-\w+-\d+$/, regions: ['aws-iso-e-global'], dnsSuffix: 'cloud.adc-e.uk', dualStackDnsSuffix: 'api.cloud-aws.adc-e.uk' },
  { name: 'aws-iso-f', regionRegex: /^us-isof-\w+-\d+$/, regions: ['aws-iso-f-global'], dnsSuffix: 'csp.hci.ic.gov', dualStackDnsSuffix: 'api.aws.hci.ic.gov' },
  { name: 'aws-us-gov', regionRegex: /^us-gov-\w+-\d+$/, regions: ['aws-us-gov-global'], dnsSuffix: 'amazonaws.com', dualStackDnsSuffix: 'api.aws' },
];

function partitionOf(region: string): Partition {
  return (
    PARTITIONS.find((p) => p.regions.includes(region)) ?? PARTITIONS.find((p) => p.regionRegex.test(region)) ?? PARTITIONS[0]
  );
}

/**
 * The profile's keys in the SDK's shared config file (`AWS_CONFIG_FILE`, else `~/.aws/config`; the profile
 * `AWS_PROFILE`, else `default`), read as the SDK's `parseIni` reads them, with the `sts` settings of the profile's
 * `services` section as `services.sts.<key>`; `{}` when the file does not exist.
 */
export type SharedConfig = Record<string, string>;

export function readSharedConfig(env: NodeJS.ProcessEnv = process.env): SharedConfig {
  const file = env.AWS_CONFIG_FILE || join(env.HOME || homedir(), '.aws', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`Could not read the AWS config file ${file}: ${(error as Error).message}`);
  }
  return profileSettings(parseIni(text), env.AWS_PROFILE || 'default');
}

/** Sections (`default`, `profile x` as `x`, `services x`) -> keys; a sub-property as `<parent>.<key>`. */
function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let section: Record<string, string> | undefined;
  let parent: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.split(/(^|\s)[;#]/)[0].trim();
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      parent = undefined;
      const name = trimmed.slice(1, -1).trim().replace(/^profile\s+/, '');
      section = sections.get(name) ?? {};
      sections.set(name, section);
      continue;
    }
    const equals = trimmed.indexOf('=');
    if (!section || equals <= 0) continue;
    const key = trimmed.slice(0, equals).trim();
    const value = trimmed.slice(equals + 1).trim();
    if (value === '') {
      parent = key;
      continue;
    }
    if (parent && line.trimStart() === line) parent = undefined;
    section[parent ? `${parent}.${key}` : key] = value;
  }
  return sections;
}

function profileSettings(sections: Map<string, Record<string, string>>, profile: string): SharedConfig {
  const settings = { ...sections.get(profile) };
  if (settings.services) {
    const services = sections.get(`services ${settings.services}`);
    if (!services) {
      throw new Error(`The services section "${settings.services}" specified in the profile is not present in the shared configuration file.`);
    }
    for (const [key, value] of Object.entries(services)) if (key.startsWith('sts.')) settings[`services.${key}`] = value;
  }
  return settings;
}

/**
 * A boolean setting as the SDK reads one (`booleanSelector`): `true` or `false` exactly, anything else an error
 * naming the setting; unset (or, more lenient than the SDK, empty: a workflow's unset variable) undefined.
 */
function booleanSetting(settings: Record<string, string | undefined>, name: string, where: string): boolean | undefined {
  const value = settings[name];
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${where} ${name} must be true or false, got ${JSON.stringify(value)}`);
}

/** The environment variable, else the config file's key, as the SDK's `loadConfig` chooses. */
function booleanFrom(env: NodeJS.ProcessEnv, variable: string, config: SharedConfig, key: string): boolean {
  return booleanSetting(env, variable, 'Environment variable') ?? booleanSetting(config, key, 'AWS config file setting') ?? false;
}

/**
 * The endpoint the SDK's STS client (v3, its default `useGlobalEndpoint: false`) would call for `region`:
 * - a configured endpoint, first found of `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the config file's
 *   `services` section's `sts` `endpoint_url`, the profile's `endpoint_url`, unless
 *   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or `ignore_configured_endpoint_urls`) is true; with FIPS or dual-stack also
 *   set, the ruleset's own error;
 * - else STS's ruleset: `https://sts.<region>.<dnsSuffix>`, `sts-fips.` with `AWS_USE_FIPS_ENDPOINT=true` (or
 *   `use_fips_endpoint`; in aws-us-gov FIPS is the regular host), the dual-stack suffix with
 *   `AWS_USE_DUALSTACK_ENDPOINT=true` (or `use_dualstack_endpoint`); `aws-global` names `https://sts.amazonaws.com`.
 * `config` is {@link readSharedConfig}'s. Throws an `Error` naming the setting for a malformed URL or boolean.
 */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env, config: SharedConfig = {}): URL {
  const fips = booleanFrom(env, 'AWS_USE_FIPS_ENDPOINT', config, 'use_fips_endpoint');
  const dualStack = booleanFrom(env, 'AWS_USE_DUALSTACK_ENDPOINT', config, 'use_dualstack_endpoint');
  const sources: Array<[string, string | undefined]> = [
    ['Environment variable AWS_ENDPOINT_URL_STS', env.AWS_ENDPOINT_URL_STS],
    ['Environment variable AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL],
    ['AWS config file setting services.sts.endpoint_url', config['services.sts.endpoint_url']],
    ['AWS config file setting endpoint_url', config.endpoint_url],
  ];
  const ignore = booleanFrom(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', config, 'ignore_configured_endpoint_urls');
  const configured = ignore ? undefined : sources.find(([, value]) => value);
  if (configured) {
    if (fips) throw new Error('Invalid Configuration: FIPS and custom endpoint are not supported');
    if (dualStack) throw new Error('Invalid Configuration: Dualstack and custom endpoint are not supported');
    const [where, value] = configured;
    try {
      return new URL(value!);
    } catch {
      throw new Error(`${where} must be a URL such as https://sts.example.com, got ${JSON.stringify(value)}`);
    }
  }
  const partition = partitionOf(region);
  if (region === 'aws-global' && !fips && !dualStack) return new URL('https://sts.amazonaws.com');
  if (fips && dualStack) return new URL(`https://sts-fips.${region}.${partition.dualStackDnsSuffix}`);
  if (fips) return new URL(partition.name === 'aws-us-gov' ? `https://sts.${region}.amazonaws.com` : `https://sts-fips.${region}.${partition.dnsSuffix}`);
  if (dualStack) return new URL(`https://sts.${region}.${partition.dualStackDnsSuffix}`);
  return new URL(`https://sts.${region}.${partition.dnsSuffix}`);
}

export interface WebIdentityRequest {
  roleArn: string;
  sessionName: string;
  token: string;
  durationSeconds?: number;
  /** Inline session policy (JSON). */
  policy?: string;
  policyArns?: string[];
}

/**
 * The Query form body (`application/x-www-form-urlencoded`), members as the SDK's awsQuery serializer writes them:
 * lists as `PolicyArns.member.<n>.arn`, absent members left out.
 */
export function webIdentityBody(request: WebIdentityRequest): string {
  const form = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15' });
  form.set('RoleArn', request.roleArn);
  form.set('RoleSessionName', request.sessionName);
  form.set('WebIdentityToken', request.token);
  request.policyArns?.forEach((arn, i) => form.set(`PolicyArns.member.${i + 1}.arn`, arn));
  if (request.policy) form.set('Policy', request.policy);
  if (request.durationSeconds !== undefined) form.set('DurationSeconds', String(request.durationSeconds));
  return form.toString();
}

export interface WebIdentityCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  assumedRoleArn: string;
}

/**
 * An STS error answer, shaped as the SDK's service exceptions are, so that `errorMessage`, `isTransientError` and
 * `isRefusal` read it alike: `name` the modelled exception's name (`InvalidIdentityTokenException` for the code
 * `InvalidIdentityToken`) or the code itself when unmodelled (`AccessDenied`, `Throttling`, `ValidationError`).
 */
export class StsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };

  constructor(name: string, message: string, status: number, fault: 'client' | 'server', requestId?: string) {
    super(message);
    this.name = name;
    this.$fault = fault;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** Query error codes of AssumeRoleWithWebIdentity's modelled errors (botocore's sts model) -> the SDK's names. */
const MODELLED_ERRORS: Record<string, string> = {
  ExpiredTokenException: 'ExpiredTokenException',
  IDPCommunicationError: 'IDPCommunicationErrorException',
  IDPRejectedClaim: 'IDPRejectedClaimException',
  InvalidIdentityToken: 'InvalidIdentityTokenException',
  MalformedPolicyDocument: 'MalformedPolicyDocumentException',
  PackedPolicyTooLarge: 'PackedPolicyTooLargeException',
  RegionDisabledException: 'RegionDisabledException',
};

/** The text of the first `<name>` element in `xml`, entities decoded; undefined when there is none. */
function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? decodeEntities(match[1]) : undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] !== '#') return ENTITIES[entity] ?? whole;
    const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

/**
 * Reads STS's answer: the credentials of a 2xx `AssumeRoleWithWebIdentityResponse`, else throws. An `ErrorResponse`
 * (`<Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>`) becomes a {@link StsServiceError}; an
 * answer that is not STS's XML (an HTML page from a proxy) an error that `errorMessage` quotes as foreign (the shape
 * of the SDK's deserialization failure, see `foreignAnswerMessage`), carrying its status so that a 5xx is retried.
 */
export function readWebIdentityAnswer(status: number, contentType: string | undefined, text: string): WebIdentityCredentials {
  const ok = status >= 200 && status < 300;
  const xml = /xml/i.test(contentType ?? '') || /^\s*<\?xml|^\s*<(AssumeRoleWithWebIdentityResponse|ErrorResponse)\b/.test(text);
  const code = xml ? element(text, 'Code') : undefined;
  if (!ok && code) {
    const fault = element(text, 'Type') === 'Receiver' || status >= 500 ? 'server' : 'client';
    const name = MODELLED_ERRORS[code] ?? code;
    throw new StsServiceError(name, element(text, 'Message') ?? '', status, fault, element(text, 'RequestId'));
  }
  const credentials = xml && ok ? element(text, 'Credentials') : undefined;
  if (!credentials) {
    if (ok && xml) throw new Error(`STS answered AssumeRoleWithWebIdentity without credentials`);
    throw Object.assign(new Error(`HTTP ${status}`), {
      $operation: 'AssumeRoleWithWebIdentity',
      $service: 'STS',
      $metadata: { httpStatusCode: status },
      $response: { statusCode: status, $foreignBodyText: text },
    });
  }
  const fields = {
    accessKeyId: element(credentials, 'AccessKeyId'),
    secretAccessKey: element(credentials, 'SecretAccessKey'),
    sessionToken: element(credentials, 'SessionToken'),
    expiration: element(credentials, 'Expiration'),
    assumedRoleArn: element(element(text, 'AssumedRoleUser') ?? '', 'Arn'),
  };
  const expiration = new Date(fields.expiration ?? '');
  const missing = Object.entries(fields).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length || Number.isNaN(expiration.getTime())) {
    throw new Error(`STS answered AssumeRoleWithWebIdentity without complete credentials (${missing.join(', ') || 'expiration'})`);
  }
  return { ...(fields as Omit<WebIdentityCredentials, 'expiration'>), expiration };
}

/**
 * One attempt at `AssumeRoleWithWebIdentity` on `endpoint` (see {@link stsEndpoint}), unsigned, through the proxy
 * rules of `send`. Resolves with the credentials; rejects as {@link readWebIdentityAnswer} does, or with the network
 * error, a `ConnectTimeoutError` after `connectMs`, or the signal's reason.
 */
export async function assumeRoleWithWebIdentity(
  endpoint: URL,
  request: WebIdentityRequest,
  options: { signal?: AbortSignal; connectMs?: number } = {},
): Promise<WebIdentityCredentials> {
  const answer = await send(
    endpoint,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/xml',
        // CloudTrail's userAgent: who called.
        'user-agent': PROJECT_ID,
      },
      body: webIdentityBody(request),
    },
    options,
  );
  const type = answer.headers['content-type'];
  return readWebIdentityAnswer(answer.status, Array.isArray(type) ? type[0] : type, answer.text);
}
