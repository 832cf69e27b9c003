import type { Sandbox } from '../server.js';
import type { Operation, Service } from '../service.js';

/**
 * Launch template data as the SDK's request shapes name it (PascalCase: `TagSpecifications`,
 * `MetadataOptions`, `UserData`, `ImageId`, ...). Stored in that form; serialised to EC2's wire names on output.
 */
export type LaunchTemplateData = Record<string, unknown>;

export interface LaunchTemplateVersion {
  number: number;
  description?: string;
  data: LaunchTemplateData;
  createTime: Date;
  createdBy: string;
  clientToken?: string;
}

export interface LaunchTemplate {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  versions: LaunchTemplateVersion[];
  createTime: Date;
  createdBy: string;
}

/** EC2 launch templates. TODO (helper): operations, seeding and resolution. */
export class Ec2Service implements Service {
  readonly name = 'ec2';
  readonly protocol = 'ec2' as const;
  readonly apiVersion = '2016-11-15';
  readonly xmlns = 'http://ec2.amazonaws.com/doc/2016-11-15/';
  readonly templates = new Map<string, LaunchTemplate>();

  constructor(private readonly sandbox: Sandbox) {}

  /** Seeds a template with version 1 (tests and the demo; EC2's CreateLaunchTemplate is not served). */
  createLaunchTemplate(_input: { name: string; data?: LaunchTemplateData; description?: string }): LaunchTemplate {
    throw new Error('not yet implemented');
  }

  /**
   * Finds a template by ID or name and one of its versions (`$Latest`, `$Default` or a number; default
   * `$Default`). Throws the AwsError EC2 answers with when either does not exist.
   */
  resolveVersion(_ref: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }): {
    template: LaunchTemplate;
    version: LaunchTemplateVersion;
  } {
    throw new Error('not yet implemented');
  }

  readonly operations: Record<string, Operation> = {};
}
