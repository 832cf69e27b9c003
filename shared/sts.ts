/**
 * STS's `AssumeRoleWithWebIdentity` as one unsigned Query `POST` (the call needs no credentials), without the AWS SDK:
 * loading the SDK's STS client was most of what starting assume-role cost (see `docs/performance.md`). What the SDK
 * gave is kept here, each piece tested against the SDK's own behaviour: the endpoint (its STS ruleset and partitions,
 * `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the shared config and credentials files, `fips-` regions, FIPS and dual-stack), the request's encoding, the
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
 * The profile's settings as the SDK's `loadSharedConfigFiles` + `fromSharedConfigFiles` give them: the credentials
 * file's section `[<profile>]` (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) overlaid by the config file's
 * `[profile <profile>]` (or `[default]`) (`AWS_CONFIG_FILE`, else `~/.aws/config`); the profile `AWS_PROFILE`, else
 * `default`. `sections` is the config file's `services <name>` sections as `services.<name>`. A file that is missing
 * or unreadable (a directory, no permission) or that `parseIni` refuses counts as empty, as the SDK swallows it.
 */
export interface SharedConfig {
  profile: Record<string, string>;
  sections: Record<string, Record<string, string>>;
}

/** The shared files of `env`, read once and only when a setting is not decided by the environment. */
export type SharedConfigSource = () => SharedConfig;

export function readSharedConfig(env: NodeJS.ProcessEnv = process.env): SharedConfig {
  const home = env.HOME || homedir();
  const path = (file: string) => (file.startsWith('~/') ? join(home, file.slice(2)) : file);
  const parsed = (file: string) => {
    try {
      return parseIni(readFileSync(path(file), 'utf8'));
    } catch {
      return {};
    }
  };
  const config = configData(parsed(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')));
  const credentials = parsed(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'));
  const name = env.AWS_PROFILE || 'default';
  // The SDK's default `preferredFile: 'config'`: the config file's keys win.
  return { profile: { ...credentials[name], ...config[name] }, sections: config };
}

/**
 * Memoizes {@link readSharedConfig} for `env`: the files are read at the first setting that needs them, and once;
 * `onRead` (for tests) is told when they are.
 */
export function sharedConfigOf(env: NodeJS.ProcessEnv = process.env, onRead?: () => void): SharedConfigSource {
  let read: SharedConfig | undefined;
  return () => {
    if (!read) onRead?.();
    return (read ??= readSharedConfig(env));
  };
}

type Sections = Record<string, Record<string, string>>;

/**
 * The SDK's `parseIni`, line for line: `[<type> <name>]` (type `profile`, `sso-session` or `services`, one blank
 * between) as `<type>.<name>`, any other section under its bracketed text; a key with an empty value opens a
 * sub-section whose indented keys are `<parent>.<key>`; `;`/`#` comments at the start or after a blank.
 */
function parseIni(text: string): Sections {
  const map: Sections = {};
  let section: string | undefined;
  let subSection: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.split(/(^|\s)[;#]/)[0].trim();
    if (trimmed[0] === '[' && trimmed[trimmed.length - 1] === ']') {
      section = undefined;
      subSection = undefined;
      const name = trimmed.substring(1, trimmed.length - 1);
      const typed = /^([\w-]+)\s(["'])?([\w-@+.%:/]+)\2$/.exec(name);
      if (!typed) section = name;
      else if (SECTION_TYPES.includes(typed[1])) section = `${typed[1]}.${typed[3]}`;
      if (name === '__proto__' || name === 'profile __proto__') throw new Error(`Found invalid profile name "${name}"`);
      continue;
    }
    const equals = trimmed.indexOf('=');
    if (!section || equals <= 0) continue;
    const key = trimmed.substring(0, equals).trim();
    const value = trimmed.substring(equals + 1).trim();
    if (value === '') {
      subSection = key;
      continue;
    }
    if (subSection && line.trimStart() === line) subSection = undefined;
    map[section] ??= {};
    map[section][subSection ? `${subSection}.${key}` : key] = value;
  }
  return map;
}

const SECTION_TYPES = ['profile', 'sso-session', 'services'];

/**
 * The SDK's `getConfigData`: of the config file, only `[default]` and typed sections count, `profile.<name>` as
 * `<name>`; a bare `[deploy]` is not a profile there (it is in the credentials file).
 */
function configData(sections: Sections): Sections {
  const data: Sections = sections.default ? { default: sections.default } : {};
  for (const [key, value] of Object.entries(sections)) {
    const dot = key.indexOf('.');
    if (dot === -1 || !SECTION_TYPES.includes(key.substring(0, dot))) continue;
    data[key.substring(0, dot) === 'profile' ? key.substring(dot + 1) : key] = value;
  }
  return data;
}

/**
 * A boolean setting as the SDK reads one (`booleanSelector` under `loadConfig`): `true` or `false` exactly; anything
 * else (`TRUE`, `yes`, `1`, empty) fails that source, which `loadConfig`'s chain passes over as if it were unset.
 */
function booleanOf(value: string | undefined): boolean | undefined {
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

/** The environment variable, else the profile's key, else false, as the SDK's `loadConfig` chooses. */
function booleanFrom(env: NodeJS.ProcessEnv, variable: string, shared: SharedConfigSource, key: string): boolean {
  return booleanOf(env[variable]) ?? booleanOf(shared().profile[key]) ?? false;
}

/**
 * The profile's STS `endpoint_url` as the SDK's `getEndpointUrlConfig('STS')` selects it: the `services` section's
 * `sts.endpoint_url` first, then the profile's own. A `services` name without its section makes the SDK's selector
 * throw, which its chain passes over: no endpoint from the file at all.
 */
function configuredInFile(shared: SharedConfig): [string, string] | undefined {
  const { profile, sections } = shared;
  if (profile.services) {
    const section = sections[`services.${profile.services}`];
    if (!section) return undefined;
    if (section['sts.endpoint_url']) return ['AWS config file setting services.sts.endpoint_url', section['sts.endpoint_url']];
  }
  return profile.endpoint_url ? ['AWS config file setting endpoint_url', profile.endpoint_url] : undefined;
}

/**
 * The SDK's `getRealRegion`/`isFipsRegion`: a `fips-` prefixed or `-fips` suffixed pseudo-region names the real
 * region with FIPS on (`aws-fips` and `fips-aws-global` are us-east-1).
 */
export function realRegion(region: string): { region: string; fips: boolean } {
  if (!region.startsWith('fips-') && !region.endsWith('-fips')) return { region, fips: false };
  if (region === 'fips-aws-global' || region === 'aws-fips') return { region: 'us-east-1', fips: true };
  return { region: region.replace(/fips-(dkr-|prod-)?|-fips/, ''), fips: true };
}

/**
 * The endpoint the SDK's STS client (v3, its default `useGlobalEndpoint: false`) would call for `region` (a `fips-`
 * pseudo-region as {@link realRegion} maps it):
 * - a configured endpoint, first found of `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the config file's
 *   `services` section's `sts` `endpoint_url`, the profile's `endpoint_url`, unless
 *   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or `ignore_configured_endpoint_urls`) is true; with FIPS or dual-stack also
 *   set, the ruleset's own error;
 * - else STS's ruleset: `https://sts.<region>.<dnsSuffix>`, `sts-fips.` with `AWS_USE_FIPS_ENDPOINT=true` (or
 *   `use_fips_endpoint`; in aws-us-gov FIPS is the regular host), the dual-stack suffix with
 *   `AWS_USE_DUALSTACK_ENDPOINT=true` (or `use_dualstack_endpoint`); `aws-global` names `https://sts.amazonaws.com`.
 * Booleans other than `true`/`false` count as unset, as in the SDK. `shared` ({@link sharedConfigOf}) is read only
 * for a setting the environment leaves open. Throws an `Error` naming the setting for an endpoint that is not a URL.
 */
export function stsEndpoint(givenRegion: string, env: NodeJS.ProcessEnv = process.env, shared: SharedConfigSource = sharedConfigOf(env)): URL {
  const { region, fips: fipsRegion } = realRegion(givenRegion);
  const fips = fipsRegion || booleanFrom(env, 'AWS_USE_FIPS_ENDPOINT', shared, 'use_fips_endpoint');
  const dualStack = booleanFrom(env, 'AWS_USE_DUALSTACK_ENDPOINT', shared, 'use_dualstack_endpoint');
  const ignore = booleanFrom(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', shared, 'ignore_configured_endpoint_urls');
  const fromEnv: Array<[string, string | undefined]> = [
    ['Environment variable AWS_ENDPOINT_URL_STS', env.AWS_ENDPOINT_URL_STS],
    ['Environment variable AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL],
  ];
  const configured = ignore ? undefined : (fromEnv.find(([, value]) => value) ?? configuredInFile(shared()));
  if (configured) {
    if (fips) throw new Error('Invalid Configuration: FIPS and custom endpoint are not supported');
    if (dualStack) throw new Error('Invalid Configuration: Dualstack and custom endpoint are not supported');
    const [where, value] = configured;
    try {
      const url = new URL(value!);
      // The SDK joins the operation's path `/` onto the endpoint's: a request to `https://host/p` goes to `/p/`.
      if (!url.pathname.endsWith('/')) url.pathname += '/';
      return url;
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

/** The SDK's `NODEJS_TIMEOUT_ERROR_CODES` (@smithy/node-http-handler). */
const DROPPED = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'];

/**
 * One attempt at `AssumeRoleWithWebIdentity` on `endpoint` (see {@link stsEndpoint}), unsigned, through the proxy
 * rules of `send`. Resolves with the credentials; rejects as {@link readWebIdentityAnswer} does, or with the network
 * error (a dropped connection named `TimeoutError`, as the SDK names it), a `ConnectTimeoutError` after `connectMs`, or the signal's reason.
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
  ).catch((error: unknown) => {
    // The SDK's NodeHttpHandler renames these socket errors TimeoutError and its retry adds `$metadata`, so that
    // a dropped connection was logged `TimeoutError: socket hang up`; the same text here.
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code && DROPPED.includes(code)) throw Object.assign(error as Error, { name: 'TimeoutError', $metadata: {} });
    throw error;
  });
  const type = answer.headers['content-type'];
  return readWebIdentityAnswer(answer.status, Array.isArray(type) ? type[0] : type, answer.text);
}
