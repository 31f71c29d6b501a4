/**
 * Maps a partition key to a partition id with the hash Event Hubs uses (Jenkins lookup3 folded
 * to 16 bits), so keys land where the service and the SDK's buffered producer put them.
 */
export function partitionForKey(partitionKey: string, partitionCount: number): number {
  const { b, c } = lookup3(Buffer.from(partitionKey, 'utf8'));
  const folded = ((c ^ b) << 16) >> 16;
  return Math.abs(folded % partitionCount);
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** lookup3's mix(): six rounds of subtract, xor-rotate, add over (a, b, c) in turn. */
const MIX_ROTATIONS = [4, 6, 8, 16, 19, 4];
/** lookup3's final(): seven rounds of xor, subtract-rotate. */
const FINAL_ROTATIONS = [14, 11, 25, 16, 4, 14, 24];

function mix(s: Int32Array): void {
  MIX_ROTATIONS.forEach((k, n) => {
    const [x, y, z] = [n % 3, (n + 1) % 3, (n + 2) % 3];
    s[x] = ((s[x]! - s[z]!) | 0) ^ rot(s[z]!, k);
    s[z] = (s[z]! + s[y]!) | 0;
  });
}

function final(s: Int32Array): void {
  FINAL_ROTATIONS.forEach((k, n) => {
    const [x, y] = [(n + 2) % 3, (n + 1) % 3];
    s[x] = ((s[x]! ^ s[y]!) - rot(s[y]!, k)) | 0;
  });
}

function lookup3(data: Buffer): { b: number; c: number } {
  const initial = (0xdeadbeef + data.length) | 0;
  const s = new Int32Array([initial, initial, initial]); // a, b, c
  let i = 0;
  let size = data.length;
  while (size > 12) {
    for (let w = 0; w < 3; w++) s[w] = (s[w]! + data.readUInt32LE(i + 4 * w)) | 0;
    mix(s);
    i += 12;
    size -= 12;
  }
  if (size > 0) {
    // Tail: little-endian bytes into a, b, c (the switch fall-through of the reference code).
    for (let j = 0; j < size; j++) {
      const w = Math.floor(j / 4);
      s[w] = (s[w]! + (data[i + j]! << (8 * (j % 4)))) | 0;
    }
    final(s);
  }
  return { b: s[1]! >>> 0, c: s[2]! >>> 0 };
}
