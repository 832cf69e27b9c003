/**
 * The one way this project turns a thrown value into a message for the log. AWS SDK errors carry their code in
 * `name` (`AccessDenied`, `ThrottlingException`); users search for the code, so it leads the message.
 */
export function errorMessage(error: unknown): string {
  if (error === null || error === undefined) return 'unknown error';
  if (typeof error === 'string') return error.trim() || 'unknown error';
  if (error instanceof Error) {
    const message = error.message.trim();
    const code = error.name;
    const isServiceError = '$metadata' in error || '$fault' in error;
    if (isServiceError && code && code !== 'Error' && !message.startsWith(code)) {
      return message ? `${code}: ${message}` : code;
    }
    return message || code || 'unknown error';
  }
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
