/**
 * Runs the AWS CLI (Debian's `awscli`, an independent implementation of the wire protocols) against the
 * sandbox. Conformance tests use it to prove that what the sandbox sends is what AWS's own parsers accept.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Sandbox } from '../server.js';
import { STATIC_CREDENTIALS } from '../server.js';

/** Debian installs the CLI at /usr/bin/aws; other installs (pip shims) may be older major versions. */
export const AWS_CLI = process.env.AWS_CLI ?? '/usr/bin/aws';
export const awsCliAvailable = (): boolean => existsSync(AWS_CLI);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function awsCli(
  sandbox: Sandbox,
  args: string[],
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = STATIC_CREDENTIALS,
): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: sandbox.region,
    AWS_DEFAULT_REGION: sandbox.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      ['--endpoint-url', sandbox.url, '--output', 'json', '--no-cli-pager', ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}

/**
 * Fails unless every operation the service implements was called through the CLI in this test file:
 * a new sandbox operation without a conformance test breaks the build. `elsewhere`: operations another file covers.
 */
export function expectAllOperationsCovered(sandbox: Sandbox, service: string, seen: Set<string>, elsewhere: string[] = []): void {
  const implemented = Object.keys(
    (sandbox as unknown as Record<string, { operations: Record<string, unknown> }>)[service].operations,
  )
    .filter((operation) => !elsewhere.includes(operation))
    .sort();
  const missing = implemented.filter((operation) => !seen.has(operation));
  if (missing.length > 0) {
    throw new Error(`operations of ${service} without an AWS CLI conformance test: ${missing.join(', ')}`);
  }
}
