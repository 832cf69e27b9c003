/** Long-lived keys the sandbox accepts as "the credentials already in the environment". */
export const STATIC_CREDENTIALS = {
  accessKeyId: 'AKIASANDBOXSTATIC01',
  secretAccessKey: 'sandbox-static-secret-key-do-not-use-000000',
};
