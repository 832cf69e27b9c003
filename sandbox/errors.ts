/** An error the sandbox answers with, shaped by the protocol of the service that raised it. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

export const validationError = (message: string): AwsError => new AwsError('ValidationError', message);

/** awsJson's answer to a request the service refuses on its own terms (beyond the model), in the model's words. */
export const validationException = (message: string): AwsError =>
  new AwsError('ValidationException', `1 validation error detected: ${message}`);

/** An error whose body carries members besides the message (restJson: the EBS direct APIs' `Reason`). */
export class AwsErrorWithFields extends AwsError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly fields: Record<string, string>,
  ) {
    super(code, message, status);
  }
}
