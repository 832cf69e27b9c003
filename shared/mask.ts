/**
 * Masks secrets in the step's log before anything could print them.
 *
 * The runner masks every registered value and, by itself, its base64 (three alignments), JSON-, URL- and
 * XML-escaped forms (actions/runner HostContext registers those value encoders for every mask), so this adds none
 * of those. What the runner does not do for `::add-mask::` is split a multi-line value, and it masks line by line:
 * each line of a multi-line secret (a PEM key, a key file) is therefore masked on its own too. Lines shorter than
 * {@link MIN_MASKED_LINE} carry no secret worth hiding (`}`, `-----`) and would blank that text all over the log.
 * Derived forms only the caller knows (the base64 half of a Nix `name:base64` key) are the caller's to pass.
 */
import * as core from './actions-core.js';

export const MIN_MASKED_LINE = 8;

export function maskSecrets(...values: Array<string | null | undefined>): void {
  const forms = new Set<string>();
  for (const value of values) {
    const trimmed = value?.trim();
    if (!trimmed) continue;
    forms.add(trimmed);
    const lines = trimmed.split(/\r?\n/).map((line) => line.trim());
    if (lines.length > 1) for (const line of lines) if (line.length >= MIN_MASKED_LINE) forms.add(line);
  }
  for (const form of forms) core.setSecret(form);
}
