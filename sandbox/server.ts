/**
 * A local stand-in for AWS (STS, EC2, Auto Scaling, SSM) and the GitHub OIDC issuer, on 127.0.0.1.
 * The real SDK clients and the AWS CLI talk to it over HTTP through the standard endpoint settings.
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CallLog } from './call-log.js';
import { ControlApi } from './control.js';
import { Clock } from './clock.js';
import { STATIC_CREDENTIALS } from './credentials.js';
import { AwsError } from './errors.js';
import { Faults } from './faults.js';
import { imdsCredentialsDocument, issueInstanceProfileCredentials } from './instance-profile.js';
import { isModeled, loadModel, loadModels } from './models/models.js';
import { validateRequest } from './models/validate.js';
import { jsonBody, jsonError, parseTarget } from './protocol/json.js';
import { parseQueryParams, queryError, queryResponse } from './protocol/query.js';
import { decodeRequest, encodeError, encodeResponse, matchOperation, type RestAnswer, type RestMatch } from './protocol/rest-json.js';
import { verifySigV4 } from './protocol/sigv4.js';
import type { Account, Service } from './service.js';
import { AutoScalingService } from './services/autoscaling/autoscaling.js';
import { EbsService } from './services/ebs/ebs.js';
import { Ec2Service } from './services/ec2/ec2.js';
import { ImageService } from './services/ec2/images.js';
import { OidcIssuer } from './services/oidc/oidc.js';
import { SsmService } from './services/ssm/ssm.js';
import { StsService } from './services/sts/sts.js';

export interface SandboxOptions {
  /** How many times faster than real time the sandbox clock runs. */
  speed?: number;
  port?: number;
  region?: string;
  accountId?: string;
}

// Re-exported: tests and the CLI take the sandbox and its keys from one module.
export { STATIC_CREDENTIALS };

const THROTTLE_CODES: Record<string, { code: string; status: number }> = {
  sts: { code: 'Throttling', status: 400 },
  autoscaling: { code: 'Throttling', status: 400 },
  ec2: { code: 'RequestLimitExceeded', status: 503 },
  ssm: { code: 'ThrottlingException', status: 400 },
  ebs: { code: 'RequestThrottledException', status: 400 },
  oidc: { code: 'TooManyRequests', status: 429 },
};

export class Sandbox implements Account {
  readonly calls = new CallLog();
  readonly faults = new Faults();
  readonly region: string;
  readonly accountId: string;
  clock: Clock;
  oidc!: OidcIssuer;
  sts!: StsService;
  ec2!: Ec2Service;
  autoscaling!: AutoScalingService;
  ssm!: SsmService;
  ebs!: EbsService;
  /** EC2's snapshots and images (served by `ec2`). */
  images!: ImageService;

  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private baseUrl = '';

  constructor(private readonly options: SandboxOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.clock = new Clock(options.speed ?? 1);
    this.reset();
  }

  /** Forgets all state, calls and faults; keeps the port, the OIDC signing key and the clock speed. */
  reset(): void {
    this.calls.clear();
    this.faults.clear();
    this.clock = new Clock(this.clock?.getSpeed() ?? this.options.speed ?? 1);
    const keys = this.oidc?.keys;
    this.oidc = new OidcIssuer(this, keys);
    this.sts = new StsService(this);
    this.ebs = new EbsService(this);
    this.ec2 = new Ec2Service(this);
    this.images = new ImageService(this, this.ebs.snapshots);
    this.ec2.serve(this.images.operations);
    this.autoscaling = new AutoScalingService(this);
    this.ssm = new SsmService(this);
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('sandbox is not started');
    return this.baseUrl;
  }

  async start(): Promise<this> {
    loadModels();
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /**
   * The environment that points the AWS SDK, the runner's OIDC client and `@actions/core` at this sandbox.
   * The AWS CLI v2 in Debian predates `AWS_ENDPOINT_URL`: give it `--endpoint-url` instead.
   */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: STATIC_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: STATIC_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: this.oidc.requestUrl(),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.oidc.requestToken,
    };
  }

  /**
   * Instance profile credentials for `instanceId` as IMDS serves them (`instance-profile.ts`); requests signed with
   * them verify, and the call log names `assumed-role/<role>/<instance id>`. Also `POST /_sandbox/instance-credentials`.
   */
  instanceProfileCredentials(instanceId: string, roleName: string): Record<string, string> {
    const issued = issueInstanceProfileCredentials(this.sts, this.accountId, instanceId, roleName);
    return imdsCredentialsDocument(issued, this.clock.now());
  }

  /** The secret of a key the sandbox knows: the static one, or one STS (or an instance profile) issued. */
  private signingSecret(accessKeyId: string) {
    if (accessKeyId === STATIC_CREDENTIALS.accessKeyId) return { secretAccessKey: STATIC_CREDENTIALS.secretAccessKey };
    const issued = this.sts.issued.get(accessKeyId);
    return issued && { secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken };
  }

  private readonly control = new ControlApi(this);

  private services(): Service[] {
    return [this.sts, this.ec2, this.autoscaling, this.ssm, this.ebs, this.oidc, this.control];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.baseUrl || 'http://127.0.0.1');
      for (const service of this.services()) {
        const route = service.routes?.find((r) => r.method === req.method && r.path === url.pathname);
        if (!route) continue;
        // The control API stays reachable whatever faults a test injects.
        if (service !== this.control && (await this.injectFaults(service.name, url.pathname, req, res))) return;
        await route.handle(req, res, url);
        return;
      }
      const rest = this.restOperation(req.method ?? '', url.pathname);
      if (rest) {
        await this.dispatchRest(rest.service, rest.match, url, req, res);
        return;
      }
      if (req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const body = await readBody(req);
      const target = parseTarget(req.headers['x-amz-target'] as string | undefined);
      if (target) {
        await this.dispatchJson(target.prefix, target.operation, body, req, res);
      } else {
        await this.dispatchQuery(body, req, res);
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`sandbox internal error: ${(error as Error).stack}`);
    }
  }

  private async dispatchQuery(body: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = parseQueryParams(body);
    const action = String(params.Action ?? '');
    const service = this.services().find((s) => s.protocol !== 'json' && s.apiVersion === params.Version);
    const requestId = randomUUID();
    const style = service?.protocol === 'ec2' ? 'ec2' : 'query';
    const xmlns = service?.xmlns ?? 'https://sts.amazonaws.com/doc/2011-06-15/';
    delete params.Action;
    delete params.Version;
    const send = (status: number, text: string) =>
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(text);
    await this.invoke(service, action, params, req, res, requestId, body, {
      ok: (result) => send(200, queryResponse(style, xmlns, action, result, requestId)),
      fail: (error) => send(error.status, queryError(style, xmlns, error, requestId)),
      unknown: () => new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`),
    });
  }

  private async dispatchJson(
    prefix: string,
    operation: string,
    body: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const service = this.services().find((s) => s.protocol === 'json' && s.targetPrefix === prefix);
    const requestId = randomUUID();
    let params: Record<string, unknown>;
    try {
      params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      params = {};
    }
    const send = (status: number, text: string) =>
      res
        .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId })
        .end(text);
    await this.invoke(service, operation, params, req, res, requestId, body, {
      ok: (result) => send(200, jsonBody(result)),
      fail: (error) => send(error.status, jsonError(error)),
      unknown: () => new AwsError('UnknownOperationException', `Unknown operation ${prefix}.${operation}`),
    });
  }

  /** A restJson service's operation named by the method and path; undefined when no service serves the path. */
  private restOperation(method: string, pathname: string): { service: Service; match: RestMatch } | undefined {
    for (const service of this.services()) {
      if (service.protocol !== 'rest-json' || !isModeled(service.name)) continue;
      const match = matchOperation(loadModel(service.name), method, pathname);
      if (match) return { service, match };
    }
    return undefined;
  }

  private async dispatchRest(
    service: Service,
    match: RestMatch,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const model = loadModel(service.name as 'ebs');
    const { params, payload } = decodeRequest(model, match, url, req.headers, await readRawBody(req));
    const requestId = randomUUID();
    const send = (answer: RestAnswer) =>
      res.writeHead(answer.status, { ...answer.headers, 'x-amzn-requestid': requestId }).end(answer.body);
    await this.invoke(
      service,
      match.operation,
      params,
      req,
      res,
      requestId,
      // The raw body serves only SigV4 verification, which no restJson operation asks for (`signedOperations`).
      '',
      {
        ok: (result) => send(encodeResponse(model, match.operation, result)),
        fail: (error) => send(encodeError(error)),
        unknown: () => new AwsError('UnknownOperationException', `Unknown operation ${match.operation}`),
      },
      payload,
    );
  }

  private async invoke(
    service: Service | undefined,
    operation: string,
    params: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    body: string,
    answer: { ok(result: unknown): void; fail(error: AwsError): void; unknown(): AwsError },
    payload?: { member: string; data: Buffer },
  ): Promise<void> {
    const accessKeyId = accessKeyOf(req);
    const caller = this.sts.callerFor(accessKeyId);
    const serviceName = service?.name ?? 'unknown';
    const userAgent = [req.headers['user-agent'], req.headers['x-amz-user-agent']].filter(Boolean).join(' ');
    const record = (status: number, errorCode?: string) =>
      this.calls.add({
        at: this.clock.now().toISOString(),
        service: serviceName,
        operation,
        params,
        caller,
        status,
        errorCode,
        userAgent,
      });

    let answerLost = false;
    const lose = () => {
      answerLost = true;
    };
    if (await this.injectFaults(serviceName, operation, req, res, answer.fail, record, lose)) return;
    const handler = service?.operations[operation];
    try {
      if (service?.signedOperations?.has(operation)) {
        const request = { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body };
        verifySigV4(request, (key) => this.signingSecret(key), { region: this.region, service: service.name });
      }
      this.sts.rejectExpired(accessKeyId, service?.protocol);
      if (!handler) throw answer.unknown();
      // Every modeled operation is held to the official model before its handler looks at any resource.
      // A blob payload is checked for presence only; its content is the operation's to judge.
      const checked = payload ? { ...params, [payload.member]: '' } : params;
      const refused = isModeled(serviceName) ? validateRequest(serviceName, operation, checked, service?.refineValidation) : undefined;
      if (refused) throw refused;
      const region = regionOf(req) ?? this.region;
      const result = await handler(params, { caller, accessKeyId, requestId, sandbox: this, region, payload: payload?.data });
      if (answerLost) {
        record(200, 'AnswerLost');
        await untilClosed(req);
        return;
      }
      record(200);
      answer.ok(result);
    } catch (error) {
      const awsError =
        error instanceof AwsError ? error : new AwsError('InternalFailure', `sandbox bug: ${(error as Error).stack}`, 500);
      record(awsError.status, awsError.code);
      answer.fail(awsError);
    }
  }

  /** Applies injected faults; true when the call was answered (or dropped) by a fault. */
  private async injectFaults(
    service: string,
    operation: string,
    req: IncomingMessage,
    res: ServerResponse,
    fail: (error: AwsError) => void = (error) => res.writeHead(error.status).end(error.message),
    record: (status: number, errorCode?: string) => void = () => undefined,
    loseAnswer: () => void = () => undefined,
  ): Promise<boolean> {
    for (const fault of this.faults.take(service, operation)) {
      if (fault.kind === 'lost-answer') {
        loseAnswer();
        continue;
      }
      if (fault.kind === 'latency') {
        await new Promise((resolve) => setTimeout(resolve, fault.latencyMs ?? 1000));
      } else if (fault.kind === 'hang') {
        record(0, 'Hung');
        await untilClosed(req);
        return true;
      } else if (fault.kind === 'html') {
        const status = fault.status ?? 502;
        record(status, 'HtmlPage');
        res.writeHead(status, { 'content-type': 'text/html' }).end(htmlErrorPage(status));
        return true;
      } else if (fault.kind === 'drop') {
        record(0, 'ConnectionDropped');
        req.socket.destroy();
        return true;
      } else if (fault.kind === 'throttle') {
        const usual = THROTTLE_CODES[service] ?? { code: 'Throttling', status: 400 };
        const error = new AwsError(fault.code ?? usual.code, fault.message ?? 'Rate exceeded', usual.status);
        record(error.status, error.code);
        fail(error);
        return true;
      } else {
        const error = new AwsError(fault.code ?? 'InternalFailure', fault.message ?? 'We encountered an internal error. Please try again.', 500);
        record(error.status, error.code);
        fail(error);
        return true;
      }
    }
    return false;
  }
}

/** What nginx, in front of a service, answers when the service fails it: CRLF lines, as nginx writes them. */
export function htmlErrorPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** Never answered: held until the client closes the connection, or stop() destroys the socket. */
function untilClosed(req: IncomingMessage): Promise<void> {
  return new Promise<void>((resolve) => {
    if (req.socket.destroyed) return resolve();
    req.socket.once('close', () => resolve());
  });
}

function accessKeyOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization ?? '';
  return /Credential=([^/,\s]+)\//.exec(auth)?.[1];
}

/** The region of the request's SigV4 credential scope (`Credential=AKID/date/region/service/aws4_request`). */
function regionOf(req: IncomingMessage): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/** restJson bodies: a block is 512 KiB; past this the body is read to its end but not kept (its length is wrong anyway). */
const MAX_REST_BODY = 1024 * 1024;

function readRawBody(req: IncomingMessage, limit = MAX_REST_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    req.on('data', (chunk: Buffer) => {
      if (kept > limit) return;
      chunks.push(chunk);
      kept += chunk.length;
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
