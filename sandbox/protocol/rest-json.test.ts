import { describe, expect, it } from '@jest/globals';
import { AwsError, AwsErrorWithFields } from '../errors.js';
import { loadModel } from '../models/models.js';
import { decodeRequest, encodeError, encodeResponse, matchOperation } from './rest-json.js';

const ebs = () => loadModel('ebs');

describe('matchOperation', () => {
  it.each([
    ['POST', '/snapshots', 'StartSnapshot', {}],
    ['PUT', '/snapshots/snap-1/blocks/7', 'PutSnapshotBlock', { snapshotId: 'snap-1', blockIndex: '7' }],
    ['GET', '/snapshots/snap-1/blocks/7', 'GetSnapshotBlock', { snapshotId: 'snap-1', blockIndex: '7' }],
    ['GET', '/snapshots/snap-1/blocks', 'ListSnapshotBlocks', { snapshotId: 'snap-1' }],
    ['POST', '/snapshots/completion/snap-1', 'CompleteSnapshot', { snapshotId: 'snap-1' }],
    ['GET', '/snapshots/snap%2D1/changedblocks', 'ListChangedBlocks', { secondSnapshotId: 'snap-1' }],
  ])('%s %s is %s', (method, path, operation, labels) => {
    expect(matchOperation(ebs(), method, path)).toEqual({ operation, labels });
  });

  it.each([
    ['DELETE', '/snapshots/snap-1'],
    ['GET', '/snapshots'],
    ['POST', '/'],
    ['PUT', '/snapshots/snap-1/blocks/7/extra'],
  ])('%s %s is no operation', (method, path) => {
    expect(matchOperation(ebs(), method, path)).toBeUndefined();
  });
});

describe('decodeRequest', () => {
  const decode = (method: string, path: string, headers: Record<string, string>, body = '') => {
    const url = new URL(`http://sandbox${path}`);
    return decodeRequest(ebs(), matchOperation(ebs(), method, url.pathname)!, url, headers, Buffer.from(body));
  };

  it.each([
    [
      'URI labels and headers by type, the body as the payload',
      ['PUT', '/snapshots/snap-1/blocks/7', { 'x-amz-data-length': '524288', 'x-amz-checksum': 'abc=', 'x-amz-progress': '50' }, 'BLOCK'],
      { params: { SnapshotId: 'snap-1', BlockIndex: 7, DataLength: 524288, Checksum: 'abc=', Progress: 50 }, payload: { member: 'BlockData', data: Buffer.from('BLOCK') } },
    ],
    [
      'a header that is not a number stays text, for the validator to refuse',
      ['POST', '/snapshots/completion/snap-1', { 'x-amz-changedblockscount': 'many' }],
      { params: { SnapshotId: 'snap-1', ChangedBlocksCount: 'many' } },
    ],
    [
      'the query string',
      ['GET', '/snapshots/snap-1/blocks?maxResults=100&pageToken=a%2Bb%3D&startingBlockIndex=3', {}],
      { params: { SnapshotId: 'snap-1', MaxResults: 100, NextToken: 'a+b=', StartingBlockIndex: 3 } },
    ],
    [
      'a JSON body, unknown members kept for the validator to refuse',
      ['POST', '/snapshots', {}, '{"VolumeSize":8,"Tags":[{"Key":"a","Value":"b"}],"Extra":1}'],
      { params: { VolumeSize: 8, Tags: [{ Key: 'a', Value: 'b' }], Extra: 1 } },
    ],
    ['a body that is not JSON', ['POST', '/snapshots', {}, 'not json'], { params: {} }],
  ] as const)('%s', (_case, [method, path, headers, body], expected) => {
    expect(decode(method, path, headers, body)).toEqual(expected);
  });
});

describe('encodeResponse and encodeError', () => {
  it.each([
    [
      'StartSnapshot: 201 and a JSON body with epoch-second times',
      'StartSnapshot',
      { SnapshotId: 'snap-1', StartTime: new Date(1_700_000_000_500), Description: undefined },
      { status: 201, headers: { 'content-type': 'application/json' }, body: '{"SnapshotId":"snap-1","StartTime":1700000000.5}' },
    ],
    [
      'PutSnapshotBlock: header members in headers, an empty body',
      'PutSnapshotBlock',
      { Checksum: 'abc=', ChecksumAlgorithm: 'SHA256' },
      { status: 201, headers: { 'content-type': 'application/json', 'x-amz-Checksum': 'abc=', 'x-amz-Checksum-Algorithm': 'SHA256' }, body: '{}' },
    ],
    [
      'GetSnapshotBlock: the payload as the raw body',
      'GetSnapshotBlock',
      { DataLength: 3, BlockData: Buffer.from('abc'), Checksum: 'x=' },
      { status: 200, headers: { 'x-amz-Data-Length': '3', 'x-amz-Checksum': 'x=', 'content-type': 'application/octet-stream', 'content-length': '3' }, body: Buffer.from('abc') },
    ],
  ])('%s', (_case, operation, result, expected) => {
    expect(encodeResponse(ebs(), operation, result)).toEqual(expected);
  });

  it.each([
    [new AwsErrorWithFields('ValidationException', 'bad block', 400, { Reason: 'INVALID_BLOCK' }), '{"message":"bad block","Reason":"INVALID_BLOCK"}'],
    [new AwsError('ConflictException', 'token reused', 409), '{"message":"token reused"}'],
  ])('%o: the code in x-amzn-errortype, the members in the body', (error, body) => {
    expect(encodeError(error)).toEqual({ status: error.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code }, body });
  });
});
