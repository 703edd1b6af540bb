/**
 * SipHash-2-4 (64-bit output) as systemd uses it for stable derived values
 * (nspawn interface-name shortening, uid range pick). BigInt arithmetic; the
 * inputs here are a few dozen bytes, so speed does not matter.
 */
const M64 = (1n << 64n) - 1n;

const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

function le64(buf: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i]!);
  return v;
}

/** siphash24(data, 16-byte key) -> unsigned 64-bit value (same as systemd's `siphash24()`). */
export function siphash24(data: Uint8Array, key: Uint8Array): bigint {
  if (key.length !== 16) throw new Error('siphash24: key must be 16 bytes');
  const k0 = le64(key, 0);
  const k1 = le64(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const len = data.length;
  const end = len - (len % 8);
  for (let i = 0; i < end; i += 8) {
    const m = le64(data, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let b = BigInt(len & 0xff) << 56n;
  for (let j = 0; j < len % 8; j++) b |= BigInt(data[end + j]!) << BigInt(8 * j);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}
