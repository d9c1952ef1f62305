/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to stderr. */
export function err(line = ''): void {
  process.stderr.write(`${line}\n`);
}

/** Writes a value as indented JSON to stdout (what every `--json` prints). */
export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Prints rows as an aligned table with a header; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3m ago" style age of an ISO timestamp; "never" for null. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/**
 * A one-line status on stderr that rewrites itself (`3/10 done, 1 failed`).
 * Does nothing unless stderr is a terminal, so pipes and logs stay clean.
 */
export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** True when the stream is a terminal. */
  get enabled(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** Replaces the line with `text`. */
  show(text: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[K${text}`);
    this.shown = true;
  }

  /** Erases the line, so ordinary output can follow. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
