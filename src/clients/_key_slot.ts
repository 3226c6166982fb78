/**
 * The Redis Cluster hash slot of a key (CRC16-XMODEM of the key, or of its hash
 * tag, modulo 16384), so that an error can name the node that owns the key.
 * @module
 */

const encoder = new TextEncoder();

/**
 * The hash slot of a key, as Redis Cluster computes it.
 * @param key The key.
 * @returns 0 to 16383.
 */
export function keySlot(key: string): number {
  const bytes = encoder.encode(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // "{"
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // "}"
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i] << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc & 16383;
}
