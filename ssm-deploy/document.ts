/**
 * The `NixOS-Deploy` Command document shipped in `nixos-deploy.json`: its content, hash and parameter definitions.
 * That file is generated (scripts/ssm-document.mjs, run by `npm run build`) from `nixos-deploy.sh`, the script, and
 * `nixos-deploy.parameters.json`; edit those, never the JSON.
 *
 * The content sent to SSM is the file's text exactly, so its SHA-256 (`DocumentHash` on SendCommand) is that of the
 * file in the repository, and `aws ssm create-document --content file://ssm-deploy/nixos-deploy.json` makes the same
 * document. The bundle carries the parsed JSON (ncc inlines it), hence the canonical two-space layout.
 */
import { createHash } from 'node:crypto';
import shipped from './nixos-deploy.json' with { type: 'json' };

export interface DocumentParameterDefinition {
  type: 'String';
  description: string;
  default?: string;
  allowedPattern?: string;
  allowedValues?: string[];
  maxChars?: number;
  interpolationType: 'ENV_VAR';
}

export interface DeployDocument {
  schemaVersion: '2.2';
  description: string;
  parameters: Record<DocumentParameterName, DocumentParameterDefinition>;
  mainSteps: Array<{
    action: 'aws:runShellScript';
    name: string;
    inputs: { timeoutSeconds: string; runCommand: string[] };
  }>;
}

export const DOCUMENT_PARAMETERS = [
  'storePath',
  'action',
  'substituters',
  'trustedPublicKeys',
  'healthCheckUnits',
  'healthCheckUrl',
  'healthCheckTimeoutSeconds',
  'rollbackOnFailure',
  'executionTimeout',
] as const;
export type DocumentParameterName = (typeof DOCUMENT_PARAMETERS)[number];

export const DOCUMENT = shipped as DeployDocument;
export const DOCUMENT_CONTENT = `${JSON.stringify(DOCUMENT, null, 2)}\n`;
/** What SendCommand's `DocumentHash` (type Sha256) pins: hex SHA-256 of the content as sent. */
export const DOCUMENT_HASH = sha256(DOCUMENT_CONTENT);
/** The one step, which is also the plugin name of every invocation. */
export const DEPLOY_STEP = DOCUMENT.mainSteps[0].name;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
