/**
 * Keeps the last `cap` bytes written to it. Bytes, not characters, so the cap
 * is exact; decoding happens once at the end, starting on a character boundary.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.cap * 2) this.compact();
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    if (all.length > this.cap) {
      this.truncated = true;
      this.chunks = [all.subarray(all.length - this.cap)];
      this.size = this.cap;
    } else {
      this.chunks = [all];
    }
  }

  /** The kept bytes as UTF-8, never starting in the middle of a character. */
  text(): string {
    this.compact();
    const all = this.chunks[0] ?? Buffer.alloc(0);
    let start = 0;
    if (this.truncated) while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    return all.subarray(start).toString('utf8');
  }
}
