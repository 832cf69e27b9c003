/**
 * Launch template data, read and written through EC2's official model (`../../models/`): requests arrive
 * flattened under their query names (`TagSpecification.1.Tag.1.Key`), are stored under the model's member names
 * (`TagSpecifications[0].Tags[0].Key`, the SDK's names too) and are answered under EC2's XML names
 * (`tagSpecificationSet/item/tagSet/item/key`), each member's `locationName` in ResponseLaunchTemplateData.
 */
import { types } from 'node:util';
import { AwsError } from '../../errors.js';
import { loadModel, type Shape } from '../../models/models.js';
import { readShape } from '../../models/validate.js';

/**
 * Launch template data as the SDK's request shapes name it (PascalCase: `TagSpecifications`,
 * `MetadataOptions`, `UserData`, `ImageId`, ...). Stored in that form; serialised to EC2's wire names on output.
 */
export type LaunchTemplateData = Record<string, unknown>;

const lowerCamel = (name: string): string => name[0].toLowerCase() + name.slice(1);

// `types.isDate` rather than `instanceof`: jest runs tests in another realm, whose Dates fail `instanceof`.
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !types.isDate(value);

/**
 * A deep copy, so stored versions never share objects with a caller or with each other. Not structuredClone:
 * under jest that returns objects of Node's own realm, and `toXml` would no longer recognise their Dates.
 */
export function cloneLaunchTemplateData<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneLaunchTemplateData) as T;
  if (types.isDate(value)) return new Date(value.getTime()) as T;
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneLaunchTemplateData(v)])) as T;
  }
  return value;
}

/**
 * `LaunchTemplateData` of a request the model has accepted (`validateRequest`), as the EC2 protocol decoded it
 * (query names, string leaves), in member names with typed leaves.
 */
export function decodeLaunchTemplateData(wire: unknown): LaunchTemplateData {
  return readShape('ec2', 'RequestLaunchTemplateData', wire, 'wire', 'LaunchTemplateData') as LaunchTemplateData;
}

/**
 * Checks data handed to the seeding API against the model, so a typo in a test (`TagSpecification`,
 * `HttpTokens: true`) fails where it is written instead of surfacing as a wire-format puzzle later.
 * Throws `launch template data has no field ...` or `launch template data.<member> must be a <type>`.
 */
export function checkLaunchTemplateData(data: unknown): void {
  readShape('ec2', 'RequestLaunchTemplateData', data, 'plain', 'launch template data');
}

/** Serialises stored data under EC2's response names (`tagSpecificationSet`, `metadataOptions`, ...). */
export function encodeLaunchTemplateData(data: LaunchTemplateData): Record<string, unknown> {
  const model = loadModel('ec2');
  const encode = (value: unknown, shape: Shape | undefined): unknown => {
    if (Array.isArray(value)) {
      const of = shape?.member && model.shapes[shape.member.shape];
      return value.map((item) => encode(item, of));
    }
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([name, member]) => {
        const ref = shape?.members?.[name];
        return [ref?.locationName ?? lowerCamel(name), encode(member, ref && model.shapes[ref.shape])];
      }),
    );
  };
  return encode(data, model.shapes.ResponseLaunchTemplateData) as Record<string, unknown>;
}

/** EC2's limit on user data, in bytes of the raw (decoded) form: "User data is limited to 16 KB, in raw form, before it is base64-encoded" (EC2 User Guide, "Work with instance user data"). */
export const MAX_USER_DATA_BYTES = 16_384;

/**
 * The base64 text EC2 decodes: the standard alphabet, padding only at the end. EC2 is lenient about some
 * unpadded text (moto PR 9543 found AWS accepting a plain word), so the length is not checked; characters
 * outside the alphabet are what it was seen refusing.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Refuses launch template data whose `UserData` (base64 text, as the API takes it) is not base64 or decodes to
 * more than 16,384 bytes, as CreateLaunchTemplate and CreateLaunchTemplateVersion do before storing anything.
 * Codes and messages as EC2 answers them, quoted in the field: `InvalidUserData.Malformed: Invalid BASE64
 * encoding of user data.` (terraform issue 18665, aws-samples ec2-spot-workshops issue 15, for
 * CreateLaunchTemplate) and `InvalidUserData.Malformed: User data is limited to 16384 bytes.`
 * (terraform-aws-github-runner issue 3700, for CreateLaunchTemplateVersion; terraform-provider-aws PR 49234
 * names the decoded length as what is measured). Throws that AwsError; returns nothing when the data fits.
 */
export function checkUserData(data: LaunchTemplateData): void {
  const text = data.UserData;
  if (typeof text !== 'string') return;
  if (!BASE64.test(text)) throw new AwsError('InvalidUserData.Malformed', 'Invalid BASE64 encoding of user data.');
  if (Buffer.from(text, 'base64').length > MAX_USER_DATA_BYTES) {
    throw new AwsError('InvalidUserData.Malformed', `User data is limited to ${MAX_USER_DATA_BYTES} bytes.`);
  }
}
