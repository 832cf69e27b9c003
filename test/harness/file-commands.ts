/**
 * The files a step writes for the runner: `GITHUB_OUTPUT`, `GITHUB_ENV` and `GITHUB_STATE` hold `name=value` lines
 * or `name<<DELIMITER` heredocs (what @actions/core writes); `GITHUB_PATH` holds one directory a line.
 */

/** Parses `name=value` and heredoc entries as the runner does; throws where the runner would fail the step. */
export function parseKeyValueFile(text: string, file = 'file'): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (!name) throw new Error(`${file}: line ${i + 1} has no name: ${JSON.stringify(line)}`);
      values[name] = line.slice(equals + 1);
    } else if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (!name || !delimiter) throw new Error(`${file}: line ${i + 1} needs a name and a delimiter: ${JSON.stringify(line)}`);
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw new Error(`${file}: matching delimiter not found: ${JSON.stringify(delimiter)}`);
      values[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else {
      throw new Error(`${file}: line ${i + 1} is neither name=value nor name<<delimiter: ${JSON.stringify(line)}`);
    }
  }
  return values;
}

export function parsePathFile(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}
