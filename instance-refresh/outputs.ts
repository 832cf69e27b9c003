/** The action's outputs, as named in action.yml. */
export interface Outputs {
  'instance-refresh-id'?: string;
  'launch-template-id'?: string;
  'launch-template-version'?: number;
  status?: string;
  'status-reason'?: string;
}
