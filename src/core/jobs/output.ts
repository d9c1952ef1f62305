/**
 * Keeps the last `cap` bytes of `text` (UTF-8), never splitting a character.
 * The head is dropped because the end of a log is where the error is.
 */
export function capTail(text: string, cap: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= cap) return { text, truncated: false };
  let start = bytes.length - cap;
  // Skip UTF-8 continuation bytes (10xxxxxx) so the tail starts on a character.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return { text: bytes.subarray(start).toString('utf8'), truncated: true };
}
